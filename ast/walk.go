package ast

// Walk calls fn for n and, while fn returns true, for each node below it,
// in source order.
func Walk(n Node, fn func(Node) bool) {
	if n == nil || !fn(n) {
		return
	}
	r, ok := n.(*Rule)
	if !ok {
		if pl, ok := n.(*PortList); ok {
			for _, it := range pl.Items {
				Walk(it, fn)
			}
		}
		if pm, ok := n.(*PortMapping); ok && pm.Item != nil {
			Walk(pm.Item, fn)
		}
		return
	}
	// Children in source order; typed nils are skipped.
	if r.Flag != nil {
		Walk(r.Flag, fn)
	}
	if r.Scheme != nil {
		Walk(r.Scheme, fn)
	}
	if r.Ellipsis != nil {
		Walk(r.Ellipsis, fn)
	}
	if r.Host != nil {
		Walk(r.Host, fn)
	}
	if r.HostMap != nil {
		Walk(r.HostMap, fn)
	}
	if r.Ports != nil {
		Walk(r.Ports, fn)
	}
	if r.PortMap != nil {
		Walk(r.PortMap, fn)
	}
	if r.Family != nil {
		Walk(r.Family, fn)
	}
}
