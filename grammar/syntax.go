package grammar

import (
	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// The structs below are the grammar of a flag (SPEC §2), one struct per
// production; participle prints it as EBNF (docs/grammar.md, checked by
// TestEBNF). Terminals are token classes (lexer.go); a quoted terminal is
// a class whose only text it is. The grammar reads the shape shared by
// the three kinds of flag: which host forms and parts each kind takes, and
// the validity of each literal, are checked after parsing (check.go,
// host.go, ports.go), so that the message can say what is wrong.
//
// Every choice of the grammar depends on token classes alone, never on
// the text of a token, so that a flag's tree is a function of its classes
// (see shapes.go).

// flag is a flag: its name, how its value follows, and its value.
//
//	Flag = FlagName Separator? Value? .
type flag struct {
	Name  flagName   `parser:"@@"`
	Sep   *separator `parser:"@@?"`
	Value *value     `parser:"@@?"`
}

// flagName is the flag word. The three names are the kinds of flag; any
// other "--word" is read too, so that a misspelling gets a suggestion.
//
//	FlagName = "--allow-resolve" | "--allow-outbound" | "--allow-inbound" | <unknownflag> .
type flagName struct {
	Token lexer.Token `parser:"@(\"--allow-resolve\":ResolveFlag | \"--allow-outbound\":OutboundFlag | \"--allow-inbound\":InboundFlag | UnknownFlag)"`
}

// separator is how the value follows the name: "=" or a blank (the
// two-word form, "--allow-resolve example.com").
//
//	Separator = "=" | <space> .
type separator struct {
	Token lexer.Token `parser:"@(\"=\":Eq | Space)"`
}

// value is the SPEC of a flag.
//
//	Value = Scheme? Host? HostMapping? Ports? Family* .
type value struct {
	Scheme   *scheme      `parser:"@@?"`
	Host     *host        `parser:"@@?"`
	HostMap  *hostMapping `parser:"@@?"`
	Ports    *ports       `parser:"@@?"`
	Families []*family    `parser:"@@*"`
}

// scheme is the protocol and "://"; the check reads tcp or udp in any case.
//
//	Scheme = <name>? "://" .
type scheme struct {
	Protocol *lexer.Token `parser:"@Name?"`
	Sep      lexer.Token  `parser:"@\"://\":SchemeSep"`
}

// host is the name pattern, target or local host, one alternative per form.
//
//	Host = "..." | "*" | <wildcard> | IPv4CIDR | <ipv4> | <ipv6cidr> | <ipv6> | <localhost> | Name .
type host struct {
	Ellipsis  *lexer.Token `parser:"  @\"...\":Ellipsis"`
	Any       *lexer.Token `parser:"| @\"*\":Any"`
	Wildcard  *lexer.Token `parser:"| @Wildcard"`
	IPv4CIDR  *iPv4CIDR    `parser:"| @@"`
	IPv4      *lexer.Token `parser:"| @IPv4"`
	IPv6CIDR  *lexer.Token `parser:"| @IPv6CIDR"`
	IPv6      *lexer.Token `parser:"| @IPv6"`
	Localhost *lexer.Token `parser:"| @Localhost"`
	Name      *name        `parser:"| @@"`
}

// iPv4CIDR is an IPv4 network.
//
//	IPv4CIDR = <ipv4> "/" <number> .
type iPv4CIDR struct {
	Addr  lexer.Token `parser:"@IPv4"`
	Slash lexer.Token `parser:"@\"/\":Slash"`
	Len   lexer.Token `parser:"@Number"`
}

// name is a domain, or in an inbound rule an interface. It is one run, or
// several when a label ends with '-' ("a-.com" is one run, "a-:80" two);
// literal.Name decides what it is. An interface name may hold ':'
// ("eth0:1"): the ports follow the last colon.
//
//	Name = (<name> | <number>)+ InterfaceColon* .
type name struct {
	Runs   []lexer.Token     `parser:"@((Name | Number)+)"`
	Colons []*interfaceColon `parser:"@@*"`
}

// interfaceColon is ":part" inside an interface name: a colon that
// another colon follows.
//
//	InterfaceColon = ":" (<number> | <badport>) (?= ":") .
type interfaceColon struct {
	Colon lexer.Token `parser:"@\":\":Colon"`
	Part  lexer.Token `parser:"@(Number | BadPort) (?= \":\":Colon)"`
}

// hostMapping is "->IP" after a name: what the name resolves to.
//
//	HostMapping = "->" (<ipv4> | <ipv6>)? .
type hostMapping struct {
	Arrow lexer.Token  `parser:"@\"->\":Arrow"`
	To    *lexer.Token `parser:"@(IPv4 | IPv6)?"`
}

// ports is ":" and the ports, with an optional port mapping.
//
//	Ports = ":" PortList? PortMapping? .
type ports struct {
	Colon lexer.Token  `parser:"@\":\":Colon"`
	List  *portList    `parser:"@@?"`
	Map   *portMapping `parser:"@@?"`
}

// portList is "*" (every port) or a list of ports and inclusive ranges.
//
//	PortList = "*" | PortItem ("," PortItem)* .
type portList struct {
	Any   *lexer.Token `parser:"  @\"*\":Star"`
	Items []*portItem  `parser:"| @@ (\",\":Comma @@)*"`
}

// portItem is a port or an inclusive range "lo-hi".
//
//	PortItem = <number> ("-" <number>)? .
type portItem struct {
	Lo lexer.Token  `parser:"@Number"`
	Hi *lexer.Token `parser:"(\"-\":Dash @Number)?"`
}

// portMapping is "->ports" after the guest ports: the host's ports. The
// check takes one port or one range of the size of the guest side.
//
//	PortMapping = "->" PortList? .
type portMapping struct {
	Arrow lexer.Token `parser:"@\"->\":Arrow"`
	To    *portList   `parser:"@@?"`
}

// family is a family modifier; any other "#word" is read as a misspelling.
//
//	Family = "#ipv4-only" | "#ipv6-only" | <badfamily> .
type family struct {
	Token lexer.Token `parser:"@(\"#ipv4-only\":IPv4Only | \"#ipv6-only\":IPv6Only | BadFamily)"`
}

// flagParser parses the tokens of one flag.
var flagParser = participle.MustBuild[flag](
	participle.Lexer(flagLexerDef),
	participle.UseLookahead(3),
)
