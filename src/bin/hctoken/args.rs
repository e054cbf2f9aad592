//! `--name value` and `--flag` arguments, enough for two commands.
//!
//! Messages about arguments name their position (`argument #3`, counting the command as #1),
//! never their text: a secret pasted in the wrong place must not be repeated on the terminal,
//! in a CI log or in a supervisor's journal.

use std::ffi::OsString;

/// The command line after the program name, each argument checked to be UTF-8. A non-UTF-8
/// argument is an error that names its position only.
pub fn from_os(raw: impl Iterator<Item = OsString>) -> Result<Vec<String>, String> {
    raw.enumerate()
        .map(|(index, arg)| {
            arg.into_string().map_err(|_| format!("argument #{} is not valid UTF-8 text", index + 1))
        })
        .collect()
}

struct Pair {
    name: String,
    value: Option<String>,
    /// Where the value came from: the position of `--name=value`, or of the value after `--name`.
    position: usize,
}

pub struct Args {
    pairs: Vec<Pair>,
}

impl Args {
    /// `raw` are the arguments after the command (the command is argument #1, so `raw[0]` is
    /// #2). `flags` are the options that take no value, `known` those that take one.
    pub fn parse(raw: &[String], flags: &[&str], known: &[&str]) -> Result<Args, String> {
        let mut pairs = Vec::new();
        let mut iter = raw.iter().enumerate().map(|(index, arg)| (index + 2, arg));
        while let Some((position, arg)) = iter.next() {
            let Some(name) = arg.strip_prefix("--") else {
                return Err(format!("unexpected argument #{position} (options start with --; see hctoken help)"));
            };
            let (name, inline) = match name.split_once('=') {
                Some((n, v)) => (n, Some(v.to_owned())),
                None => (name, None),
            };
            if !known.contains(&name) && !flags.contains(&name) {
                return Err(format!("unknown option in argument #{position} (see hctoken help)"));
            }
            let (value, position) = if flags.contains(&name) {
                if inline.is_some() {
                    return Err(format!("--{name} (argument #{position}) takes no value"));
                }
                (None, position)
            } else if let Some(value) = inline {
                (Some(value), position)
            } else {
                let (at, value) = iter.next().ok_or_else(|| format!("--{name} (argument #{position}) needs a value"))?;
                (Some(value.clone()), at)
            };
            pairs.push(Pair { name: name.to_owned(), value, position });
        }
        Ok(Args { pairs })
    }

    fn last(&self, name: &str) -> Option<&Pair> {
        self.pairs.iter().rev().find(|pair| pair.name == name)
    }

    pub fn value(&self, name: &str) -> Option<&str> {
        self.last(name).and_then(|pair| pair.value.as_deref())
    }

    /// Every value of a repeatable option, with the position it came from.
    pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = (&'a str, usize)> + 'a {
        self.pairs
            .iter()
            .filter(move |pair| pair.name == name)
            .filter_map(|pair| pair.value.as_deref().map(|value| (value, pair.position)))
    }

    pub fn flag(&self, name: &str) -> bool {
        self.pairs.iter().any(|pair| pair.name == name)
    }

    /// A TCP port, 0 to 65535 (0: any free port); 0 when the option is absent.
    pub fn port(&self, name: &str) -> Result<u16, String> {
        match self.last(name) {
            None => Ok(0),
            Some(pair) => pair.value.as_deref().unwrap_or_default().parse().map_err(|_| {
                format!("--{name} takes a port number from 0 to 65535 (argument #{})", pair.position)
            }),
        }
    }

    pub fn number(&self, name: &str, default: u64) -> Result<u64, String> {
        match self.last(name) {
            None => Ok(default),
            Some(pair) => pair
                .value
                .as_deref()
                .unwrap_or_default()
                .parse()
                .map_err(|_| format!("--{name} takes a whole number (argument #{})", pair.position)),
        }
    }
}

/// Whether the arguments ask for help: `--help` or `-h` anywhere among the options. Checked
/// before parsing, so `hctoken token --help` helps even with other options missing or wrong.
pub fn wants_help(raw: &[String]) -> bool {
    raw.iter().any(|arg| arg == "--help" || arg == "-h")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn positions_count_the_command_as_the_first_argument() {
        let error = Args::parse(&strings(&["--a", "x", "STRAY-VALUE"]), &[], &["a"]).err().unwrap();
        assert_eq!(error, "unexpected argument #4 (options start with --; see hctoken help)");
        let error = Args::parse(&strings(&["--SECRET-LOOKING"]), &[], &["a"]).err().unwrap();
        assert!(error.contains("#2") && !error.contains("SECRET"), "{error}");
        let error = Args::parse(&strings(&["--f=SECRET"]), &["f"], &[]).err().unwrap();
        assert!(error.contains("#2") && !error.contains("SECRET"), "{error}");
        let args = Args::parse(&strings(&["--n", "SECRET", "--n=7"]), &[], &["n"]).unwrap();
        assert_eq!(args.number("n", 0), Ok(7));
        let args = Args::parse(&strings(&["--n", "SECRET"]), &[], &["n"]).unwrap();
        assert_eq!(args.number("n", 0), Err("--n takes a whole number (argument #3)".to_owned()));
        assert_eq!(args.values("n").collect::<Vec<_>>(), vec![("SECRET", 3)]);
    }

    #[test]
    fn a_non_utf8_argument_is_named_by_its_position() {
        use std::os::unix::ffi::OsStringExt;
        let raw = vec![OsString::from("token"), OsString::from_vec(b"SECRET-\xff".to_vec())];
        assert_eq!(from_os(raw.into_iter()), Err("argument #2 is not valid UTF-8 text".to_owned()));
    }
}
