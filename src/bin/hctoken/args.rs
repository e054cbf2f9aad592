//! `--name value` and `--flag` arguments, enough for two commands.

pub struct Args {
    pairs: Vec<(String, Option<String>)>,
}

impl Args {
    /// `flags` are the options that take no value.
    pub fn parse(raw: &[String], flags: &[&str], known: &[&str]) -> Result<Args, String> {
        let mut pairs = Vec::new();
        let mut iter = raw.iter();
        while let Some(arg) = iter.next() {
            let Some(name) = arg.strip_prefix("--") else {
                return Err(format!("unexpected argument '{arg}'"));
            };
            let (name, inline) = match name.split_once('=') {
                Some((n, v)) => (n, Some(v.to_owned())),
                None => (name, None),
            };
            if !known.contains(&name) && !flags.contains(&name) {
                return Err(format!("unknown option --{name}"));
            }
            let value = if flags.contains(&name) {
                None
            } else {
                Some(inline.or_else(|| iter.next().cloned()).ok_or_else(|| format!("--{name} needs a value"))?)
            };
            pairs.push((name.to_owned(), value));
        }
        Ok(Args { pairs })
    }

    pub fn value(&self, name: &str) -> Option<&str> {
        self.pairs.iter().rev().find(|(n, _)| n == name).and_then(|(_, v)| v.as_deref())
    }

    pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs.iter().filter(move |(n, _)| n == name).filter_map(|(_, v)| v.as_deref())
    }

    pub fn flag(&self, name: &str) -> bool {
        self.pairs.iter().any(|(n, _)| n == name)
    }

    pub fn number(&self, name: &str, default: u64) -> Result<u64, String> {
        match self.value(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| format!("--{name} takes a whole number, not '{v}'")),
        }
    }
}
