//! LEMS expressions: the `value` and `condition` strings of `<Dynamics>`.
//!
//! Grammar (lowest precedence first), following LEMS:
//!
//! ```text
//! or      := and ( ".or." and )*
//! and     := cmp ( ".and." cmp )*
//! cmp     := sum ( (".gt." | ".lt." | ".geq." | ".leq." | ".eq." | ".neq." | ">" | "<" | ">=" | "<=" | "==" | "!=") sum )?
//! sum     := product ( ("+" | "-") product )*
//! product := unary ( ("*" | "/") unary )*
//! unary   := ("-" | "+" | ".not." | "!") unary | power
//! power   := atom ( "^" unary )?          (right associative, binds tighter than unary minus)
//! atom    := number | name | name "(" or ")" | "(" or ")"
//! ```
//!
//! Functions: `exp log ln sqrt sin cos tan sinh cosh tanh abs ceil floor H random`.
//! Booleans evaluate to 1.0 (true) and 0.0 (false).

use std::fmt;

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `^`
    Pow,
    /// `.gt.`
    Gt,
    /// `.lt.`
    Lt,
    /// `.geq.`
    Ge,
    /// `.leq.`
    Le,
    /// `.eq.`
    Eq,
    /// `.neq.`
    Ne,
    /// `.and.`
    And,
    /// `.or.`
    Or,
}

/// A built-in function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// eˣ
    Exp,
    /// natural logarithm (`log` and `ln`)
    Ln,
    /// square root
    Sqrt,
    /// sine
    Sin,
    /// cosine
    Cos,
    /// tangent
    Tan,
    /// hyperbolic sine
    Sinh,
    /// hyperbolic cosine
    Cosh,
    /// hyperbolic tangent
    Tanh,
    /// absolute value
    Abs,
    /// ceiling
    Ceil,
    /// floor
    Floor,
    /// Heaviside step: 0 for x < 0, 1 otherwise
    Heaviside,
    /// uniform random number in [0, x)
    Random,
}

impl Function {
    fn from_name(name: &str) -> Option<Function> {
        Some(match name {
            "exp" => Function::Exp,
            "log" | "ln" => Function::Ln,
            "sqrt" => Function::Sqrt,
            "sin" => Function::Sin,
            "cos" => Function::Cos,
            "tan" => Function::Tan,
            "sinh" => Function::Sinh,
            "cosh" => Function::Cosh,
            "tanh" => Function::Tanh,
            "abs" => Function::Abs,
            "ceil" => Function::Ceil,
            "floor" => Function::Floor,
            "H" => Function::Heaviside,
            "random" => Function::Random,
            _ => return None,
        })
    }

    /// Applies the function (`Random` needs a source of randomness; here it returns `x / 2`,
    /// its mean, so that evaluation stays deterministic).
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Function::Exp => x.exp(),
            Function::Ln => x.ln(),
            Function::Sqrt => x.sqrt(),
            Function::Sin => x.sin(),
            Function::Cos => x.cos(),
            Function::Tan => x.tan(),
            Function::Sinh => x.sinh(),
            Function::Cosh => x.cosh(),
            Function::Tanh => x.tanh(),
            Function::Abs => x.abs(),
            Function::Ceil => x.ceil(),
            Function::Floor => x.floor(),
            Function::Heaviside => {
                if x < 0.0 {
                    0.0
                } else {
                    1.0
                }
            }
            Function::Random => x / 2.0,
        }
    }
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A literal.
    Number(f64),
    /// A named quantity (parameter, state, derived variable, requirement, `t`).
    Name(String),
    /// Unary minus.
    Neg(Box<Expr>),
    /// Logical not.
    Not(Box<Expr>),
    /// A binary operation.
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// A function call.
    Call(Function, Box<Expr>),
}

impl Expr {
    /// Parses an expression string.
    pub fn parse(text: &str) -> Result<Expr, String> {
        let tokens = tokenize(text)?;
        let mut p = Parser {
            tokens,
            pos: 0,
            depth: 0,
        };
        let e = p.or()?;
        if p.pos != p.tokens.len() {
            return Err(format!("unexpected '{}'", p.tokens[p.pos]));
        }
        Ok(e)
    }

    /// Every name the expression reads, in order of first appearance.
    pub fn names(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_names(&mut out);
        out
    }

    fn collect_names<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Expr::Number(_) => {}
            Expr::Name(n) => {
                if !out.contains(&n.as_str()) {
                    out.push(n)
                }
            }
            Expr::Neg(e) | Expr::Not(e) | Expr::Call(_, e) => e.collect_names(out),
            Expr::Binary(_, a, b) => {
                a.collect_names(out);
                b.collect_names(out);
            }
        }
    }

    /// Evaluates with `lookup` supplying the value of each name.
    pub fn eval(&self, lookup: &dyn Fn(&str) -> Option<f64>) -> Result<f64, String> {
        Ok(match self {
            Expr::Number(x) => *x,
            Expr::Name(n) => lookup(n).ok_or_else(|| format!("no value for '{n}'"))?,
            Expr::Neg(e) => -e.eval(lookup)?,
            Expr::Not(e) => bool_to_f64(e.eval(lookup)? == 0.0),
            Expr::Call(f, e) => f.apply(e.eval(lookup)?),
            Expr::Binary(op, a, b) => op.apply(a.eval(lookup)?, b.eval(lookup)?),
        })
    }
}

impl BinaryOp {
    /// Applies the operator (comparisons and logic give 1.0 for true, 0.0 for false).
    #[inline]
    pub fn apply(self, x: f64, y: f64) -> f64 {
        match self {
            BinaryOp::Add => x + y,
            BinaryOp::Sub => x - y,
            BinaryOp::Mul => x * y,
            BinaryOp::Div => x / y,
            BinaryOp::Pow => x.powf(y),
            BinaryOp::Gt => bool_to_f64(x > y),
            BinaryOp::Lt => bool_to_f64(x < y),
            BinaryOp::Ge => bool_to_f64(x >= y),
            BinaryOp::Le => bool_to_f64(x <= y),
            BinaryOp::Eq => bool_to_f64(x == y),
            BinaryOp::Ne => bool_to_f64(x != y),
            BinaryOp::And => bool_to_f64(x != 0.0 && y != 0.0),
            BinaryOp::Or => bool_to_f64(x != 0.0 || y != 0.0),
        }
    }
}

fn bool_to_f64(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(f64),
    Name(String),
    Op(BinaryOp),
    Minus,
    Plus,
    Not,
    LParen,
    RParen,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Number(x) => write!(f, "{x}"),
            Token::Name(n) => write!(f, "{n}"),
            Token::Op(op) => write!(f, "{op:?}"),
            Token::Minus => write!(f, "-"),
            Token::Plus => write!(f, "+"),
            Token::Not => write!(f, ".not."),
            Token::LParen => write!(f, "("),
            Token::RParen => write!(f, ")"),
        }
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        // Dotted operators: .gt. .and. ...
        if c == b'.' && i + 1 < b.len() && b[i + 1].is_ascii_alphabetic() {
            let end = text[i + 1..]
                .find('.')
                .map(|e| i + 1 + e)
                .ok_or("unterminated dotted operator")?;
            let word = &text[i + 1..end];
            let tok = match word {
                "gt" => Token::Op(BinaryOp::Gt),
                "lt" => Token::Op(BinaryOp::Lt),
                "geq" | "ge" => Token::Op(BinaryOp::Ge),
                "leq" | "le" => Token::Op(BinaryOp::Le),
                "eq" => Token::Op(BinaryOp::Eq),
                "neq" | "ne" => Token::Op(BinaryOp::Ne),
                "and" => Token::Op(BinaryOp::And),
                "or" => Token::Op(BinaryOp::Or),
                "not" => Token::Not,
                _ => return Err(format!("unknown operator '.{word}.'")),
            };
            out.push(tok);
            i = end + 1;
            continue;
        }
        if c.is_ascii_digit() || c == b'.' {
            let start = i;
            i = crate::units::scan_number(b, i);
            let s = &text[start..i];
            let x: f64 = s.parse().map_err(|_| format!("bad number '{s}'"))?;
            out.push(Token::Number(x));
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Token::Name(text[start..i].to_string()));
            continue;
        }
        let two = if i + 1 < b.len() { &text[i..i + 2] } else { "" };
        let (tok, len) = match (c, two) {
            (_, ">=") => (Token::Op(BinaryOp::Ge), 2),
            (_, "<=") => (Token::Op(BinaryOp::Le), 2),
            (_, "==") => (Token::Op(BinaryOp::Eq), 2),
            (_, "!=") => (Token::Op(BinaryOp::Ne), 2),
            (b'>', _) => (Token::Op(BinaryOp::Gt), 1),
            (b'<', _) => (Token::Op(BinaryOp::Lt), 1),
            (b'!', _) => (Token::Not, 1),
            (b'+', _) => (Token::Plus, 1),
            (b'-', _) => (Token::Minus, 1),
            (b'*', _) => (Token::Op(BinaryOp::Mul), 1),
            (b'/', _) => (Token::Op(BinaryOp::Div), 1),
            (b'^', _) => (Token::Op(BinaryOp::Pow), 1),
            (b'(', _) => (Token::LParen, 1),
            (b')', _) => (Token::RParen, 1),
            _ => {
                let ch = text[i..].chars().next().unwrap_or('?');
                return Err(format!("unexpected character '{ch}'"));
            }
        };
        out.push(tok);
        i += len;
    }
    if out.is_empty() {
        return Err("empty expression".into());
    }
    if out.len() > MAX_TOKENS {
        return Err(format!("expression longer than {MAX_TOKENS} tokens"));
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

/// Longest expression accepted, which bounds the depth of left-nested sums too.
const MAX_TOKENS: usize = 2_000;

/// Deepest nesting accepted, so that hostile input cannot overflow the stack.
const MAX_DEPTH: usize = 200;

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn eat_op(&mut self, ops: &[BinaryOp]) -> Option<BinaryOp> {
        match self.peek() {
            Some(Token::Op(op)) if ops.contains(op) => {
                let op = *op;
                self.pos += 1;
                Some(op)
            }
            _ => None,
        }
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut e = self.and()?;
        while let Some(op) = self.eat_op(&[BinaryOp::Or]) {
            e = Expr::Binary(op, Box::new(e), Box::new(self.and()?));
        }
        Ok(e)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut e = self.cmp()?;
        while let Some(op) = self.eat_op(&[BinaryOp::And]) {
            e = Expr::Binary(op, Box::new(e), Box::new(self.cmp()?));
        }
        Ok(e)
    }

    fn cmp(&mut self) -> Result<Expr, String> {
        let e = self.sum()?;
        use BinaryOp::*;
        if let Some(op) = self.eat_op(&[Gt, Lt, Ge, Le, Eq, Ne]) {
            return Ok(Expr::Binary(op, Box::new(e), Box::new(self.sum()?)));
        }
        Ok(e)
    }

    fn sum(&mut self) -> Result<Expr, String> {
        let mut e = self.product()?;
        loop {
            let op = match self.peek() {
                Some(Token::Plus) => BinaryOp::Add,
                Some(Token::Minus) => BinaryOp::Sub,
                _ => return Ok(e),
            };
            self.pos += 1;
            e = Expr::Binary(op, Box::new(e), Box::new(self.product()?));
        }
    }

    fn product(&mut self) -> Result<Expr, String> {
        let mut e = self.unary()?;
        while let Some(op) = self.eat_op(&[BinaryOp::Mul, BinaryOp::Div]) {
            e = Expr::Binary(op, Box::new(e), Box::new(self.unary()?));
        }
        Ok(e)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        self.depth += 1;
        let result = self.unary_inner();
        self.depth -= 1;
        result
    }

    fn unary_inner(&mut self) -> Result<Expr, String> {
        if self.depth > MAX_DEPTH {
            return Err("expression nested too deeply".into());
        }
        match self.peek() {
            Some(Token::Minus) => {
                self.pos += 1;
                Ok(Expr::Neg(Box::new(self.unary()?)))
            }
            Some(Token::Plus) => {
                self.pos += 1;
                self.unary()
            }
            Some(Token::Not) => {
                self.pos += 1;
                Ok(Expr::Not(Box::new(self.unary()?)))
            }
            _ => self.power(),
        }
    }

    fn power(&mut self) -> Result<Expr, String> {
        let base = self.atom()?;
        if self.eat_op(&[BinaryOp::Pow]).is_some() {
            let exponent = self.unary()?;
            return Ok(Expr::Binary(
                BinaryOp::Pow,
                Box::new(base),
                Box::new(exponent),
            ));
        }
        Ok(base)
    }

    fn atom(&mut self) -> Result<Expr, String> {
        let tok = self.peek().cloned().ok_or("unexpected end of expression")?;
        self.pos += 1;
        match tok {
            Token::Number(x) => Ok(Expr::Number(x)),
            Token::Name(name) => {
                if self.peek() == Some(&Token::LParen) {
                    let f = Function::from_name(&name)
                        .ok_or_else(|| format!("unknown function '{name}'"))?;
                    self.pos += 1;
                    let arg = self.nested()?;
                    return Ok(Expr::Call(f, Box::new(arg)));
                }
                Ok(Expr::Name(name))
            }
            Token::LParen => self.nested(),
            other => Err(format!("unexpected '{other}'")),
        }
    }

    /// Parses `or ")"` after an opening parenthesis.
    fn nested(&mut self) -> Result<Expr, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("expression nested too deeply".into());
        }
        let e = self.or();
        self.depth -= 1;
        let e = e?;
        match self.peek() {
            Some(Token::RParen) => {
                self.pos += 1;
                Ok(e)
            }
            _ => Err("missing ')'".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(text: &str, vars: &[(&str, f64)]) -> f64 {
        let e = Expr::parse(text).unwrap();
        e.eval(&|n| vars.iter().find(|(k, _)| *k == n).map(|(_, v)| *v))
            .unwrap()
    }

    #[test]
    fn arithmetic_and_precedence() {
        assert_eq!(eval("1 + 2 * 3", &[]), 7.0);
        assert_eq!(eval("(1 + 2) * 3", &[]), 9.0);
        assert_eq!(eval("2 ^ 3 ^ 2", &[]), 512.0);
        assert_eq!(eval("-2^2", &[]), -4.0);
        assert_eq!(eval("8 / 4 / 2", &[]), 1.0);
        assert_eq!(eval("1e-3 * 2E+3 + .5", &[]), 2.5);
        assert_eq!(eval("2^-1", &[]), 0.5);
    }

    #[test]
    fn c302_expressions() {
        // gradedSynapse2's activation, at the threshold
        let phi = eval(
            "1/(1 + exp(beta * (vth - vpeer)))",
            &[("beta", 0.25), ("vth", -35.0), ("vpeer", -35.0)],
        );
        assert!((phi - 0.5).abs() < 1e-15);
        // customHGate's steady state
        let inf = eval(
            "1 / (1 + (exp( (ca_half - caConc) / k)))",
            &[
                ("ca_half", 6.41889e-8),
                ("caConc", 6.41889e-8),
                ("k", -1.00056e-8),
            ],
        );
        assert!((inf - 0.5).abs() < 1e-15);
        assert_eq!(
            eval(
                "ar*phi*(1-s) - ad*s",
                &[("ar", 2.0), ("phi", 0.5), ("s", 0.5), ("ad", 1.0)]
            ),
            0.0
        );
    }

    #[test]
    fn comparisons_and_logic() {
        assert_eq!(eval("v .gt. 0 .and. v .lt. 2", &[("v", 1.0)]), 1.0);
        assert_eq!(eval("v .geq. 2 .or. v .leq. 0", &[("v", 1.0)]), 0.0);
        assert_eq!(
            eval("(v - vpeer) .gt. 0", &[("v", 1.0), ("vpeer", 0.0)]),
            1.0
        );
        assert_eq!(eval(".not. (1 .eq. 2)", &[]), 1.0);
        assert_eq!(eval("H(-1) + H(0)", &[]), 1.0);
    }

    #[test]
    fn names_are_listed_once() {
        let e = Expr::parse("weight * conductance * s * (erev - v) + s").unwrap();
        assert_eq!(e.names(), vec!["weight", "conductance", "s", "erev", "v"]);
    }

    #[test]
    fn rejects_malformed_expressions() {
        for bad in [
            "",
            "1 +",
            "(1",
            "1)",
            "foo(2)",
            "2 $ 3",
            ".bogus. 1",
            "1 .gt.",
            "3 4",
        ] {
            assert!(Expr::parse(bad).is_err(), "{bad}");
        }
        let deep = "(".repeat(10_000) + "1" + &")".repeat(10_000);
        assert!(Expr::parse(&deep).is_err());
        let negs = "-".repeat(10_000) + "1";
        assert!(Expr::parse(&negs).is_err());
    }
}
