import StellingCore

/// CSV as PROTOCOL.md asks: RFC 4180 (fields with `,` `"` CR or LF quoted, quotes doubled, CRLF
/// line ends), UTF-8 with a byte order mark, and safe against formula injection: a cell that
/// starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`.
struct CSVWriter {
    /// The bytes so far, starting with the UTF-8 byte order mark.
    private(set) var bytes: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// Writes one row.
    mutating func row(_ cells: [String]) {
        for (index, cell) in cells.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(contentsOf: CSVWriter.field(cell).utf8)
        }
        bytes.append(contentsOf: [0x0D, 0x0A])
    }

    /// One cell as written: defused, then quoted when it must be.
    static func field(_ text: String) -> String {
        var text = text
        if let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) {
            text = "'" + text
        }
        guard text.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" }) else {
            return text
        }
        var quoted = "\""
        for scalar in text.unicodeScalars {
            if scalar == "\"" { quoted.unicodeScalars.append("\"") }
            quoted.unicodeScalars.append(scalar)
        }
        quoted.unicodeScalars.append("\"")
        return quoted
    }
}

/// Formats numbers for the exports without the locale: "." as the decimal separator.
enum Numbers {
    /// `count` as a percentage of `total` with one decimal, rounded half up; empty when `total` is 0.
    static func percent(_ count: Int, of total: Int) -> String {
        guard total > 0 else { return "" }
        let tenths = (count * 2000 + total) / (2 * total)
        return "\(tenths / 10).\(tenths % 10)"
    }
}

extension ExportSnapshot {
    /// results.csv: one row per statement in order (PROTOCOL.md, HTTP endpoints).
    func resultsCSV() -> [UInt8] {
        var csv = CSVWriter()
        csv.row(["statement", "position", "text", "agree", "disagree", "pass", "voters",
                 "agree_pct", "disagree_pct", "pass_pct", "present", "opened_at", "closed_at"])
        for statement in room.statements {
            guard let openedAt = statement.openedAt else {
                csv.row([statement.id.rawValue, String(statement.position), statement.text] + Array(repeating: "", count: 10))
                continue
            }
            let counts = statement.counts
            csv.row([
                statement.id.rawValue, String(statement.position), statement.text,
                String(counts.agree), String(counts.disagree), String(counts.pass), String(counts.total),
                Numbers.percent(counts.agree, of: counts.total), Numbers.percent(counts.disagree, of: counts.total),
                Numbers.percent(counts.pass, of: counts.total),
                present(for: statement).map { String($0) } ?? "",
                openedAt.rfc3339, statement.closedAt?.rfc3339 ?? "",
            ])
        }
        return csv.bytes
    }

    /// votes.csv: one row per participant and statement with the final choice and its time,
    /// statements in order, votes in the order they were cast.
    func votesCSV() -> [UInt8] {
        var csv = CSVWriter()
        csv.row(["statement", "participant", "group", "choice", "at"])
        for statement in room.statements {
            for (participant, vote) in votes(on: statement.id) {
                csv.row([statement.id.rawValue, participant.rawValue, room.participants[participant]?.group ?? "",
                         vote.choice.rawValue, vote.at.rfc3339])
            }
        }
        return csv.bytes
    }

    /// chat.csv: every message in order, hidden ones included and marked.
    func chatCSV() -> [UInt8] {
        var csv = CSVWriter()
        csv.row(["id", "at", "statement", "participant", "name", "role", "text", "hidden"])
        for message in room.chat {
            csv.row([String(message.id.rawValue), message.at.rfc3339, message.statement?.rawValue ?? "",
                     message.from.id.rawValue, names ? message.from.name : "", message.from.role.rawValue, message.text,
                     message.hidden ? "true" : "false"])
        }
        return csv.bytes
    }
}
