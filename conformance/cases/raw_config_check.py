"""Raw cases: how `-c <file> -t` judges a config file. Each case records the
exit code and the output of both servers' config check; syntax errors, value
errors, variables, includes and misplaced fields must be reported in the same
words, at the same line and column. (An integer whose suffix overflows, such as
`100eb`, is not here: nats-server silently wraps it, natsd refuses it.)"""
from harness.raw import case


def check(t, *configs, **files):
    """Checks each config in turn; `files` are written first (for includes)."""
    for name, text in files.items():
        t.server.check_config(text, name=name.replace("_", ".", 1))
    for text in configs:
        t.check_config(text)


@case()
def config_check_valid(t):
    check(t, "port: 4222\nauthorization { user: a, password: b }\n")


@case()
def config_check_syntax_errors(t):
    check(t,
          "port: 4222 x\n",                 # junk after a top-level value
          "foo {\n  bar: 1\n",              # map never closed
          "port = \"abc\n",                 # string never closed
          "a { b: 1 x }\n",                 # junk after a map value
          "s: \"a\\q\"\n",                  # bad escape
          "s: \"\\xZZ\"\n",                 # bad hex escape
          "a: [,1]\n",                      # array value terminator first
          "a: [1 2]\n",                     # two values without a separator
          ": 1\n",                          # key separator without a key
          "a:\n1\n",                        # value on the next line
          "a { ] }\n",                      # array end inside a map
          "a: 1\n\n\n  b: (\n never\n")     # block never closed, line 4


@case()
def config_check_value_errors(t):
    check(t,
          "max_payload: 99999999999999999999\n",
          "d: 2023-13-45T00:00:00Z\n",
          "x: $NOPE_NOT_SET\n",
          "a: 1\nm { b: 2 }\nc: $b\n")      # variables are scoped to their block


@case()
def config_check_includes(t):
    check(t,
          "include \"missing.conf\"\n",
          "port: 4222\ninclude \"bad.conf\"\n",
          "include \"good.conf\"\n",
          bad_conf="a: 1\nb: [1 2]\n",
          good_conf="port: 4222\n")


@case()
def config_check_fields_name_line_and_column(t):
    check(t,
          "port: 1; bogus: 2\n",            # line 1: columns counted from 0
          "port: 4222\n   bogus: 2\n",      # later lines: from 1
          "listen: \"a:b:c\"\n",
          "authorization {\n  users = [ {user: a, password: b}, {password: c} ]\n}\n")
