//! The `WWW-Authenticate` grammar (RFC 9110 section 11.6.1):
//!
//! ```text
//! WWW-Authenticate = 1#challenge
//! challenge  = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//! auth-param = token BWS "=" BWS ( token / quoted-string )
//! token68    = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
//! ```
//!
//! The one subtle point: commas separate both challenges and the parameters of one challenge,
//! so after a comma the parser looks ahead: `name =` continues the current challenge, anything
//! else starts a new one.

use super::{AuthParams, BasicChallenge, BearerChallenge, Challenge};
use crate::error::{ChallengeError, Expected};

/// Parses every challenge of one header value.
pub(super) fn parse_challenges(input: &str) -> Result<Vec<Challenge>, ChallengeError> {
    let mut parser = Parser { input, pos: 0 };
    let mut challenges = Vec::new();
    loop {
        parser.skip_list_separators();
        if parser.at_end() {
            break;
        }
        challenges.push(parser.challenge()?);
    }
    if challenges.is_empty() {
        return Err(ChallengeError::Empty);
    }
    Ok(challenges)
}

fn is_tchar(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

fn is_token68_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"-._~+/".contains(&byte)
}

fn is_whitespace(byte: u8) -> bool {
    byte == b' ' || byte == b'\t'
}

struct Parser<'a> {
    input: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn bytes(&self) -> &'a [u8] {
        self.input.as_bytes()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.input.len()
    }

    fn syntax_error(&self, expected: Expected) -> ChallengeError {
        ChallengeError::Syntax {
            offset: self.pos,
            expected,
        }
    }

    /// Skips spaces and tabs, returning how many.
    fn skip_whitespace(&mut self) -> usize {
        let start = self.pos;
        while self.peek().is_some_and(is_whitespace) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// Skips whitespace and empty list elements (`, ,`).
    fn skip_list_separators(&mut self) {
        while self.peek().is_some_and(|b| is_whitespace(b) || b == b',') {
            self.pos += 1;
        }
    }

    /// Consumes a token, if one starts here.
    fn token(&mut self) -> Option<&'a str> {
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.pos += 1;
        }
        (self.pos > start).then(|| &self.input[start..self.pos])
    }

    fn challenge(&mut self) -> Result<Challenge, ChallengeError> {
        let scheme = self
            .token()
            .ok_or_else(|| self.syntax_error(Expected::Scheme))?;
        let spaces = self.skip_whitespace();
        let mut params = AuthParams::new();
        let mut token68 = None;
        if !self.at_end() && self.peek() != Some(b',') {
            if spaces == 0 {
                return Err(self.syntax_error(Expected::SpaceAfterScheme));
            }
            match self.token68() {
                Some(value) => token68 = Some(value.to_owned()),
                None => self.params(&mut params)?,
            }
        }
        build(scheme, params, token68)
    }

    /// Consumes a token68 value if one stands here alone, up to the next comma or the end.
    fn token68(&mut self) -> Option<&'a str> {
        let start = self.pos;
        let mut end = start;
        let bytes = self.bytes();
        while bytes.get(end).copied().is_some_and(is_token68_char) {
            end += 1;
        }
        if end == start {
            return None;
        }
        while bytes.get(end) == Some(&b'=') {
            end += 1;
        }
        let mut after = end;
        while bytes.get(after).copied().is_some_and(is_whitespace) {
            after += 1;
        }
        if after < bytes.len() && bytes[after] != b',' {
            return None;
        }
        self.pos = end;
        Some(&self.input[start..end])
    }

    /// Parses `#auth-param` up to the end of this challenge.
    fn params(&mut self, params: &mut AuthParams) -> Result<(), ChallengeError> {
        loop {
            let (name, value) = self.param()?;
            let name = name.to_ascii_lowercase();
            if params.get(&name).is_some() {
                return Err(ChallengeError::DuplicateParam { name });
            }
            params.insert(name, value);

            self.skip_whitespace();
            if self.at_end() {
                return Ok(());
            }
            if self.peek() != Some(b',') {
                return Err(self.syntax_error(Expected::Comma));
            }
            let before_comma = self.pos;
            self.skip_list_separators();
            if self.at_end() {
                return Ok(());
            }
            if !self.param_starts_here() {
                self.pos = before_comma;
                return Ok(());
            }
        }
    }

    /// True when `token BWS "="` follows, i.e. the next element is a parameter.
    fn param_starts_here(&self) -> bool {
        let mut lookahead = Parser {
            input: self.input,
            pos: self.pos,
        };
        lookahead.token().is_some() && {
            lookahead.skip_whitespace();
            lookahead.peek() == Some(b'=')
        }
    }

    fn param(&mut self) -> Result<(&'a str, String), ChallengeError> {
        let name = self
            .token()
            .ok_or_else(|| self.syntax_error(Expected::ParamName))?;
        self.skip_whitespace();
        if self.peek() != Some(b'=') {
            return Err(self.syntax_error(Expected::Equals));
        }
        self.pos += 1;
        self.skip_whitespace();
        let value = if self.peek() == Some(b'"') {
            self.quoted_string()?
        } else {
            self.token()
                .ok_or_else(|| self.syntax_error(Expected::ParamValue))?
                .to_owned()
        };
        Ok((name, value))
    }

    /// Parses a quoted string starting at its opening quote, undoing `\` escapes.
    fn quoted_string(&mut self) -> Result<String, ChallengeError> {
        let open = self.pos;
        let mut value = String::new();
        let mut escaped = false;
        for (index, c) in self.input[open + 1..].char_indices() {
            let offset = open + 1 + index;
            if c.is_control() && c != '\t' {
                return Err(ChallengeError::ControlCharacter { offset });
            }
            if escaped {
                value.push(c);
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                self.pos = offset + 1;
                return Ok(value);
            } else {
                value.push(c);
            }
        }
        self.pos = self.input.len();
        Err(self.syntax_error(Expected::ClosingQuote))
    }
}

fn build(
    scheme: &str,
    params: AuthParams,
    token68: Option<String>,
) -> Result<Challenge, ChallengeError> {
    let known = scheme.eq_ignore_ascii_case("basic") || scheme.eq_ignore_ascii_case("bearer");
    if known && token68.is_some() {
        return Err(ChallengeError::UnexpectedToken68 {
            scheme: scheme.to_owned(),
        });
    }
    Ok(if scheme.eq_ignore_ascii_case("basic") {
        Challenge::Basic(BasicChallenge { params })
    } else if scheme.eq_ignore_ascii_case("bearer") {
        Challenge::Bearer(BearerChallenge { params })
    } else {
        Challenge::Other {
            scheme: scheme.to_owned(),
            params,
            token68,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(input: &str) -> Vec<Challenge> {
        parse_challenges(input).unwrap_or_else(|e| panic!("{input:?}: {e}"))
    }

    fn bearer(pairs: &[(&str, &str)]) -> Challenge {
        Challenge::Bearer(BearerChallenge {
            params: pairs.iter().copied().collect(),
        })
    }

    #[test]
    fn docker_hub_bearer() {
        let challenges = parse(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull""#,
        );
        assert_eq!(
            challenges,
            vec![bearer(&[
                ("realm", "https://auth.docker.io/token"),
                ("service", "registry.docker.io"),
                ("scope", "repository:library/alpine:pull"),
            ])]
        );
    }

    #[test]
    fn thousands_of_params_all_parse_and_are_found() {
        // A fuzz finding: duplicate checks scanned every earlier parameter, so a header of
        // many parameters took quadratic time.
        let count = 40_000;
        let header = (0..count)
            .map(|i| format!("p{i}=v{i}"))
            .collect::<Vec<_>>()
            .join(",");
        let challenges = parse(&format!("Bearer {header}"));
        let Challenge::Bearer(bearer) = &challenges[0] else {
            panic!("not bearer")
        };
        assert_eq!(bearer.params.len(), count);
        assert_eq!(bearer.params.get("P39999"), Some("v39999"));
        let duplicate = format!("Bearer {header},p7=again");
        assert!(matches!(
            parse_challenges(&duplicate),
            Err(ChallengeError::DuplicateParam { name }) if name == "p7"
        ));
    }

    #[test]
    fn scheme_and_param_names_ignore_case() {
        let challenges = parse(r#"bEaReR REALM="x", Service=y"#);
        assert_eq!(
            challenges,
            vec![bearer(&[("realm", "x"), ("service", "y")])]
        );
        let Challenge::Basic(basic) = &parse(r#"BASIC Realm="r""#)[0] else {
            panic!("not basic")
        };
        assert_eq!(basic.realm(), Some("r"));
    }

    #[test]
    fn quoted_strings_hold_commas_escapes_and_unicode() {
        let challenges = parse(r#"Bearer realm="a, b=\"c\"", scope="x\\y \z é""#);
        assert_eq!(
            challenges,
            vec![bearer(&[("realm", r#"a, b="c""#), ("scope", r"x\y z é")])]
        );
    }

    #[test]
    fn several_challenges_in_one_value() {
        let challenges = parse(
            r#"Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple", Negotiate abc+/==, Bearer"#,
        );
        assert_eq!(challenges.len(), 4);
        assert_eq!(
            challenges[0],
            Challenge::Other {
                scheme: "Newauth".into(),
                params: [
                    ("realm", "apps"),
                    ("type", "1"),
                    ("title", r#"Login to "apps""#)
                ]
                .into_iter()
                .collect(),
                token68: None,
            }
        );
        assert_eq!(challenges[1].scheme(), "Basic");
        assert_eq!(
            challenges[2],
            Challenge::Other {
                scheme: "Negotiate".into(),
                params: AuthParams::new(),
                token68: Some("abc+/==".into()),
            }
        );
        assert_eq!(challenges[3], bearer(&[]));
    }

    #[test]
    fn whitespace_and_empty_elements_are_tolerated() {
        let challenges = parse("  , Basic  realm = \"r\" ,  , Bearer\trealm=t ,");
        assert_eq!(challenges.len(), 2);
        assert_eq!(challenges[1], bearer(&[("realm", "t")]));
    }

    #[test]
    fn schemes_without_params_followed_by_more() {
        let challenges = parse("Negotiate, NTLM, Basic realm=x");
        let schemes: Vec<&str> = challenges.iter().map(Challenge::scheme).collect();
        assert_eq!(schemes, ["Negotiate", "NTLM", "Basic"]);
    }

    #[test]
    fn malformed_values_give_typed_errors() {
        let syntax = |offset, expected| ChallengeError::Syntax { offset, expected };
        let cases: &[(&str, ChallengeError)] = &[
            ("", ChallengeError::Empty),
            (" , ,", ChallengeError::Empty),
            ("=x", syntax(0, Expected::Scheme)),
            (r#"Basic"r""#, syntax(5, Expected::SpaceAfterScheme)),
            (r#"Bearer realm="x"#, syntax(15, Expected::ClosingQuote)),
            (r#"Bearer realm="x\"#, syntax(16, Expected::ClosingQuote)),
            // `realm=` alone is a token68 value by the grammar, which Bearer does not take.
            (
                "Bearer realm=",
                ChallengeError::UnexpectedToken68 {
                    scheme: "Bearer".into(),
                },
            ),
            (r#"Bearer a="x", realm="#, syntax(20, Expected::ParamValue)),
            (r#"Bearer a="x", realm=,"#, syntax(20, Expected::ParamValue)),
            (
                r#"Bearer realm="a" service="b""#,
                syntax(17, Expected::Comma),
            ),
            (r#"Bearer realm "x""#, syntax(13, Expected::Equals)),
            (r#"Bearer "x""#, syntax(7, Expected::ParamName)),
            (
                "Bearer realm=a, REALM=b",
                ChallengeError::DuplicateParam {
                    name: "realm".into(),
                },
            ),
            (
                "Basic dXNlcjpwYXNz",
                ChallengeError::UnexpectedToken68 {
                    scheme: "Basic".into(),
                },
            ),
            (
                "Bearer realm=\"a\u{1}\"",
                ChallengeError::ControlCharacter { offset: 15 },
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_challenges(input).as_ref(), Err(expected), "{input:?}");
        }
    }

    fn token_strategy() -> impl Strategy<Value = String> {
        "[a-z][a-z0-9_.-]{0,8}"
    }

    fn value_strategy() -> impl Strategy<Value = String> {
        // Printable ASCII (quotes, backslashes, commas, '=' included), tab, and some non-ASCII.
        "[ -~\t\u{e9}\u{4e2d}]{0,16}"
    }

    fn params_strategy() -> impl Strategy<Value = AuthParams> {
        proptest::collection::vec((token_strategy(), value_strategy()), 0..4)
            .prop_map(|pairs| pairs.into_iter().collect())
    }

    fn challenge_strategy() -> impl Strategy<Value = Challenge> {
        let other_scheme = "[A-Za-z][A-Za-z0-9-]{0,8}".prop_filter("not a known scheme", |s| {
            !s.eq_ignore_ascii_case("basic") && !s.eq_ignore_ascii_case("bearer")
        });
        let token68 = "[A-Za-z0-9._~+/-]{1,12}={0,2}";
        prop_oneof![
            params_strategy().prop_map(|params| Challenge::Basic(BasicChallenge { params })),
            params_strategy().prop_map(|params| Challenge::Bearer(BearerChallenge { params })),
            (other_scheme.clone(), params_strategy()).prop_map(|(scheme, params)| {
                Challenge::Other {
                    scheme,
                    params,
                    token68: None,
                }
            }),
            (other_scheme, token68).prop_map(|(scheme, token68)| Challenge::Other {
                scheme,
                params: AuthParams::new(),
                token68: Some(token68),
            }),
        ]
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_text(input in any::<String>()) {
            let _ = parse_challenges(&input);
        }

        #[test]
        fn never_panics_on_header_like_text(input in r#"[ \t,="\\a-zA-Z0-9/+é]{0,48}"#) {
            let _ = parse_challenges(&input);
        }

        #[test]
        fn one_challenge_round_trips(challenge in challenge_strategy()) {
            let rendered = challenge.to_string();
            prop_assert_eq!(parse_challenges(&rendered), Ok(vec![challenge]), "{}", rendered);
        }

        #[test]
        fn several_challenges_round_trip(challenges in proptest::collection::vec(challenge_strategy(), 1..4)) {
            let rendered = Challenge::render_all(&challenges);
            prop_assert_eq!(parse_challenges(&rendered), Ok(challenges), "{}", rendered);
        }
    }
}
