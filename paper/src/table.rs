//! A results table, written as Markdown (the report) and CSV (for analysis).

use std::fmt::Write as _;

/// A header and rows of already formatted cells.
pub struct Table {
    /// Column titles.
    pub header: Vec<String>,
    /// One entry per row, one cell per column.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with these column titles.
    pub fn new(header: &[&str]) -> Self {
        Table {
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// GitHub-flavoured Markdown.
    pub fn markdown(&self) -> String {
        let mut s = format!(
            "| {} |\n|{}\n",
            self.header.join(" | "),
            "---|".repeat(self.header.len())
        );
        for r in &self.rows {
            let _ = writeln!(s, "| {} |", r.join(" | "));
        }
        s
    }

    /// Comma-separated values; cells containing a comma are quoted.
    pub fn csv(&self) -> String {
        let quote = |c: &String| {
            if c.contains(',') {
                format!("\"{c}\"")
            } else {
                c.clone()
            }
        };
        let mut s = self.header.iter().map(quote).collect::<Vec<_>>().join(",") + "\n";
        for r in &self.rows {
            s += &(r.iter().map(quote).collect::<Vec<_>>().join(",") + "\n");
        }
        s
    }
}

/// `v` in scientific notation with 4 significant digits, as the tables show errors.
pub fn sci(v: f64) -> String {
    format!("{v:.3e}")
}

/// Today's date (UTC) as YYYY-MM-DD, as the reports are dated.
pub fn today() -> String {
    time::OffsetDateTime::now_utc().date().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_and_csv() {
        let mut t = Table::new(&["model", "test RMSE"]);
        t.rows.push(vec!["GRU-4".into(), "1.2e-2 ± 3e-3".into()]);
        t.rows.push(vec!["a, b".into(), "-".into()]);
        assert_eq!(
            t.markdown(),
            "| model | test RMSE |\n|---|---|\n| GRU-4 | 1.2e-2 ± 3e-3 |\n| a, b | - |\n"
        );
        assert_eq!(
            t.csv(),
            "model,test RMSE\nGRU-4,1.2e-2 ± 3e-3\n\"a, b\",-\n"
        );
    }

    #[test]
    fn today_is_a_date() {
        let d = today();
        assert_eq!(d.len(), 10, "{d}");
        assert!(d.starts_with("20"), "{d}");
        assert_eq!(&d[4..5], "-");
        assert_eq!(&d[7..8], "-");
    }
}
