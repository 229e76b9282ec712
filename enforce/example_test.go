package enforce_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/capspec/capspec/enforce"
	"github.com/capspec/capspec/eval"
)

// An HTTP client under a policy: its transport dials through the
// enforcer, so every connect is decided (and mappings apply). The
// destination is a server on loopback; the policy maps the name
// api.internal to it, so no DNS query is made.
func Example_httpClient() {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello, %s", r.Host)
	})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()
	port := l.Addr().(*net.TCPAddr).Port

	e, err := enforce.NewFromFlags(enforce.Options{},
		// The guest's api.internal:80 is the host's 127.0.0.1:<port>.
		fmt.Sprintf("--allow-outbound=tcp://api.internal->127.0.0.1:80->%d", port),
	)
	if err != nil {
		log.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{DialContext: e.DialContext}}

	resp, err := client.Get("http://api.internal/")
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.Status, string(body))

	_, err = client.Get("http://api.internal:8080/")
	var denied *enforce.DeniedError
	if errors.As(err, &denied) {
		fmt.Println("denied:", denied.Request)
		fmt.Println("why:", strings.SplitN(denied.Reason(), ":", 2)[0])
	}
	// Output:
	// 200 OK hello, api.internal
	// denied: connect tcp 127.0.0.1:8080 via api.internal
	// why: nearest rule 1 at flag[0]
}

// An HTTP server under a policy: the listener comes from the enforcer,
// which applies the inbound rule's port mapping (the guest's port 80 on
// 127.0.0.1 is a host port picked here) and refuses what the policy does
// not allow.
func Example_httpServer() {
	hostPort := freePortForExample()
	e, err := enforce.NewFromFlags(enforce.Options{
		// The interface table of the example: lo owns 127.0.0.1.
		Interfaces: eval.NewInterfaces(map[string][]netip.Prefix{"lo": {netip.MustParsePrefix("127.0.0.1/8")}}),
	}, fmt.Sprintf("--allow-inbound=tcp://127.0.0.1:80->%d", hostPort))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	l, err := e.Listen(ctx, "tcp", "127.0.0.1:80")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("guest port 80 listens on the host port:", l.Addr().(*net.TCPAddr).Port == hostPort)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "served under the policy")
	})}
	go srv.Serve(l)
	defer srv.Close()

	resp, err := http.Get("http://" + l.Addr().String() + "/")
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(string(body))

	_, err = e.Listen(ctx, "tcp", "0.0.0.0:8080")
	fmt.Println(errors.Is(err, enforce.ErrDenied), strings.Contains(err.Error(), "listen tcp 0.0.0.0:8080 denied"))
	// Output:
	// guest port 80 listens on the host port: true
	// served under the policy
	// true true
}

// freePortForExample returns a port free on 127.0.0.1 just now.
func freePortForExample() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
