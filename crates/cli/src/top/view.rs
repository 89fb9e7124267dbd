//! What `memstream top` draws, as a function of the feed and the sort: a header with the
//! node's totals, the streams (busiest first, or by name) and the consumer groups (most lag
//! first). Pure: tested by rendering into ratatui's test backend.

use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table};
use ratatui::Frame;

use super::feed::{Feed, Snapshot};

/// How the streams table is sorted (`s` cycles).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sort {
    #[default]
    Busiest,
    Name,
    Size,
}

impl Sort {
    pub fn next(self) -> Sort {
        match self {
            Sort::Busiest => Sort::Name,
            Sort::Name => Sort::Size,
            Sort::Size => Sort::Busiest,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Sort::Busiest => "busiest",
            Sort::Name => "name",
            Sort::Size => "size",
        }
    }
}

pub fn count(v: f64) -> String {
    if v >= 1e9 {
        format!("{:.2}G", v / 1e9)
    } else if v >= 1e6 {
        format!("{:.2}M", v / 1e6)
    } else if v >= 1e4 {
        format!("{:.1}k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

pub fn bytes(v: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let (mut v, mut unit) = (v, 0);
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    match unit {
        0 => format!("{v:.0} B"),
        _ => format!("{v:.1} {}", UNITS[unit]),
    }
}

fn uptime(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{}s", s / 60, s % 60),
        3600..=86399 => format!("{}h{}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{}h", s / 86400, (s % 86400) / 3600),
    }
}

/// Draws one screen.
pub fn draw(frame: &mut Frame<'_>, admin: &str, feed: &Feed, sort: Sort) {
    let [head, streams, groups, help] = Layout::vertical([
        Constraint::Length(4),
        Constraint::Percentage(60),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let title = format!(" memstream top: {admin} ");
    let snapshot = match feed {
        Feed::Live(s) => s.as_ref(),
        Feed::Connecting | Feed::Down(_) => {
            let text = match feed {
                Feed::Down(why) => format!("not connected: {why}"),
                _ => "connecting…".to_owned(),
            };
            let block = Block::default().borders(Borders::ALL).title(title);
            frame.render_widget(Paragraph::new(text).block(block), head);
            frame.render_widget(Paragraph::new(" q quit"), help);
            return;
        }
    };
    let lines = vec![
        Line::from(vec![
            Span::styled("in ", bold),
            Span::raw(format!(
                "{}/s {}/s   ",
                count(snapshot.produce_records_per_sec),
                bytes(snapshot.produce_bytes_per_sec)
            )),
            Span::styled("out ", bold),
            Span::raw(format!(
                "{}/s {}/s   ",
                count(snapshot.consume_records_per_sec),
                bytes(snapshot.consume_bytes_per_sec)
            )),
            Span::styled("lag ", bold),
            Span::raw(count(snapshot.total_lag as f64)),
        ]),
        Line::from(format!(
            "up {}   connections {} native, {} kafka   {} streams, {} records, {} held ({} on disk)   {} groups",
            uptime(snapshot.uptime_ms),
            snapshot.connections.native,
            snapshot.connections.kafka,
            snapshot.streams.len(),
            count(snapshot.records as f64),
            bytes(snapshot.bytes as f64),
            bytes(snapshot.disk_bytes as f64),
            snapshot.groups.len(),
        )),
    ];
    let block = Block::default().borders(Borders::ALL).title(title);
    frame.render_widget(Paragraph::new(lines).block(block), head);
    frame.render_widget(streams_table(snapshot, sort), streams);
    frame.render_widget(groups_table(snapshot), groups);
    frame.render_widget(
        Paragraph::new(format!(" q quit   s sort streams (by {})", sort.label())),
        help,
    );
}

fn streams_table(snapshot: &Snapshot, sort: Sort) -> Table<'static> {
    let mut rows: Vec<_> = snapshot.streams.iter().collect();
    match sort {
        Sort::Busiest => rows.sort_by(|a, b| {
            let busy =
                |s: &&super::feed::StreamRow| s.produce_records_per_sec + s.consume_records_per_sec;
            busy(b)
                .total_cmp(&busy(a))
                .then_with(|| a.name.cmp(&b.name))
        }),
        Sort::Name => rows.sort_by(|a, b| a.name.cmp(&b.name)),
        Sort::Size => rows.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.name.cmp(&b.name))),
    }
    let header = Row::new([
        "STREAM", "PARTS", "STORAGE", "RECORDS", "SIZE", "IN/s", "OUT/s",
    ])
    .style(Style::default().add_modifier(Modifier::BOLD));
    let body: Vec<Row> = rows
        .into_iter()
        .map(|s| {
            Row::new(vec![
                s.name.clone(),
                s.partitions.to_string(),
                s.storage.clone(),
                count(s.records as f64),
                bytes(s.bytes as f64),
                count(s.produce_records_per_sec),
                count(s.consume_records_per_sec),
            ])
        })
        .collect();
    let empty = body.is_empty();
    let widths = [
        Constraint::Fill(3),
        Constraint::Length(6),
        Constraint::Length(8),
        Constraint::Length(9),
        Constraint::Length(10),
        Constraint::Length(9),
        Constraint::Length(9),
    ];
    let title = if empty {
        " streams: none yet (memstream stream create NAME) ".to_owned()
    } else {
        format!(" streams ({}) ", snapshot.streams.len())
    };
    Table::new(body, widths)
        .header(header)
        .block(Block::default().borders(Borders::ALL).title(title))
}

fn groups_table(snapshot: &Snapshot) -> Table<'static> {
    let mut rows: Vec<_> = snapshot.groups.iter().collect();
    rows.sort_by(|a, b| {
        b.total_lag
            .cmp(&a.total_lag)
            .then_with(|| a.name.cmp(&b.name))
    });
    let header = Row::new(["GROUP", "STATE", "MEMBERS", "LAG"])
        .style(Style::default().add_modifier(Modifier::BOLD));
    let body: Vec<Row> = rows
        .into_iter()
        .map(|g| {
            Row::new(vec![
                g.name.clone(),
                g.state.clone(),
                g.members.to_string(),
                count(g.total_lag as f64),
            ])
        })
        .collect();
    let title = if body.is_empty() {
        " groups: none yet ".to_owned()
    } else {
        format!(" groups ({}) ", snapshot.groups.len())
    };
    let widths = [
        Constraint::Fill(3),
        Constraint::Length(14),
        Constraint::Length(8),
        Constraint::Length(10),
    ];
    Table::new(body, widths)
        .header(header)
        .block(Block::default().borders(Borders::ALL).title(title))
}

#[cfg(test)]
mod tests {
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    use super::*;
    use crate::top::feed::{GroupRow, StreamRow};

    fn screen(feed: &Feed, sort: Sort) -> String {
        let mut terminal = Terminal::new(TestBackend::new(100, 24)).unwrap();
        terminal
            .draw(|f| draw(f, "127.0.0.1:7879", feed, sort))
            .unwrap();
        let buffer = terminal.backend().buffer();
        (0..buffer.area.height)
            .map(|y| {
                (0..buffer.area.width)
                    .map(|x| buffer[(x, y)].symbol())
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_screen_shows_totals_streams_busiest_first_and_groups_by_lag() {
        let stream = |name: &str, rate: f64, bytes: u64| StreamRow {
            name: name.into(),
            partitions: 3,
            storage: "disk".into(),
            records: 1200,
            bytes,
            produce_records_per_sec: rate,
            ..StreamRow::default()
        };
        let group = |name: &str, lag: u64| GroupRow {
            name: name.into(),
            state: "stable".into(),
            members: 2,
            total_lag: lag,
        };
        let snapshot = Snapshot {
            produce_records_per_sec: 52_000.0,
            total_lag: 40,
            streams: vec![
                stream("quiet", 1.0, 9 << 20),
                stream("busy", 50_000.0, 1024),
            ],
            groups: vec![group("small", 4), group("big", 36)],
            ..Snapshot::default()
        };
        let feed = Feed::Live(Box::new(snapshot));
        let text = screen(&feed, Sort::Busiest);
        assert!(text.contains("memstream top: 127.0.0.1:7879"), "{text}");
        assert!(text.contains("in 52.0k/s"), "{text}");
        assert!(text.contains("lag 40"), "{text}");
        let (busy, quiet) = (text.find("busy").unwrap(), text.find("quiet").unwrap());
        assert!(busy < quiet, "busiest first:\n{text}");
        assert!(
            text.find("big").unwrap() < text.find("small").unwrap(),
            "{text}"
        );
        let by_size = screen(&feed, Sort::Size);
        assert!(by_size.find("quiet").unwrap() < by_size.find("busy").unwrap());
        let down = screen(&Feed::Down("refused".into()), Sort::Busiest);
        assert!(down.contains("not connected: refused"), "{down}");
    }
}
