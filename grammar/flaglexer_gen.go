package grammar

import "github.com/alecthomas/participle/v2/lexer"

var flagLexer lexer.Definition = flagLexerDef
