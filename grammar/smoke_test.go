package grammar
import ("testing";"fmt";"github.com/capspec/capspec/ast")
func TestSmoke(t *testing.T){
 for _, s := range []string{
 "--allow-outbound=tcp://example.com:80,443#ipv4-only","--allow-outbound tcp://db.internal->172.17.0.14:5432->5433","--allow-resolve=*.example.com","--allow-inbound=tcp://eth0:1:80",
 "--allow-outbound=tcp:/h:1", "--allow-outbound=tcp://[::1]:80", "--allow-outbound=tcp://...#ipv4-only", "--allow-outbound=tcp://10.0.0.0/8:80-90",
 "--allow-outbound=tpc://example.com:80", "--allow-resolve=example.com#ipv4only", "--allow-outboud=tcp://x:1", "--allow-outbound=tcp://::1:80", "--allow-outbound=tcp://2001:db8::1:443",
 "--allow-outbound=tcp://x:80..90", "--allow-outbound=tcp://x:70000", "--allow-outbound=tcp://010.0.0.1:80", "--allow-outbound=tcp://2130706433:80", "--allow-outbound=tcp://0x7f.1:80","--allow-outbound=tcp://127.1:80","--allow-outbound=tcp://999.0.88.1:80",
 "--allow-outbound=tcp://[fe80::1%eth0]:80","--allow-outbound=tcp://[::ffff:10.0.0.1]:80","--allow-outbound=tcp://10.1.2.3/8:80","--allow-outbound=tcp://a*.example.com:80","--allow-outbound=tcp://example.*:80",
 "--allow-outbound=tcp://0.0.0.0:80","--allow-outbound=tcp://[::]:80","--allow-inbound=tcp://*:0","--allow-outbound=tcp://*:0","--allow-inbound=tcp://*:0,80","--allow-inbound=tcp://*:80->8888",
 "--allow-inbound=tcp://*:8000-8009->9000-9010","--allow-outbound=tcp://*.example.com->1.2.3.4:80","--allow-outbound=tcp://ex\u200bample.com:80","--allow-outbound=tcp://[::1]:80#ipv4-only","--allow-resolve=a#ipv4-only#ipv6-only",
 "--allow-outbound=tcp://example.com", "--allow-outbound=tcp://example.com:80 extra", "--allow-resolve=Bücher.example.", "--allow-outbound=UDP://...", "--allow-inbound=udp://localhost:53",
 "--allow-outbound=tcp://fe80::1%eth0:80", "--allow-outbound=tcp://example.com#ipv4-only:80", "--allow-outbound", "--allow-outbound=", "allow-outbound=tcp://x:1", "--allow-resolve=10.0.0.1", "--allow-outbound=tcp://a..b:80","--allow-outbound=tcp://-a.com:80", "--allow-outbound=tcp://x:80,,90","--allow-outbound=tcp://x:90-80",
 "--allow-outbound=tcp://[2001:db8::1/32]:80", "--allow-outbound=tcp://[::ffff:10.0.0.0/104]:80",
 } {
   r, ds := ParseFlag(s, nil)
   if r != nil { fmt.Printf("OK  %-60s %s host=%v\n", s, ast.Print(r), r.Host) }
   for _, d := range ds { fmt.Printf("ERR %-60s %s %d-%d %s %v\n", s, d.ID, d.Range.Start.Offset, d.Range.End.Offset, d.Summary, d.Fixes) }
 }
}
