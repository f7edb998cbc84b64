import Foundation

/// One measured figure of a load run, such as `latency_p99_ms`.
public struct Figure: Sendable, Equatable {
    /// The key in `--json` output (snake_case).
    public var key: String
    /// For people.
    public var label: String
    /// The value, in `unit`.
    public var value: Double
    /// `s`, `ms`, `/s`, `B`, `%`, `ns` or empty for a plain count.
    public var unit: String

    /// Makes a figure.
    public init(_ key: String, _ label: String, _ value: Double, _ unit: String = "") {
        self.key = key
        self.label = label
        self.value = value
        self.unit = unit
    }
}

/// One pass-or-fail check of a load run, such as "nothing lost".
public struct Check: Sendable, Equatable {
    /// For people, and the key in `--json` output.
    public var name: String
    /// Whether it held.
    public var passed: Bool
    /// What was seen, for people.
    public var detail: String

    /// Makes a check.
    public init(_ name: String, _ passed: Bool, _ detail: String = "") {
        self.name = name
        self.passed = passed
        self.detail = detail
    }
}

/// The outcome of one load run: figures, checks, and what the run cost the tool and the server.
public struct LoadReport: Sendable {
    /// The scenario's name.
    public var scenario: String
    /// The number of participants.
    public var clients: Int
    /// The measured figures, in the order they are shown.
    public var figures: [Figure] = []
    /// The checks, in the order they are shown.
    public var checks: [Check] = []

    /// Makes an empty report.
    public init(scenario: String, clients: Int) {
        self.scenario = scenario
        self.clients = clients
    }

    /// Whether every check held.
    public var passed: Bool { checks.allSatisfy(\.passed) }

    /// The value of the figure with `key`, if measured.
    public func figure(_ key: String) -> Double? { figures.first { $0.key == key }?.value }

    /// Adds a figure.
    public mutating func add(_ key: String, _ label: String, _ value: Double, _ unit: String = "") {
        figures.append(Figure(key, label, value, unit))
    }

    /// Adds a check.
    public mutating func check(_ name: String, _ passed: Bool, _ detail: String = "") {
        checks.append(Check(name, passed, detail))
    }

    /// The summary for people: one figure or check a line.
    public func text() -> String {
        var lines = ["stelling load \(scenario): \(clients) participants"]
        let width = (figures.map(\.label.count) + checks.map(\.name.count)).max() ?? 0
        for figure in figures {
            lines.append("  " + figure.label.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                         + Self.format(figure.value, figure.unit))
        }
        for check in checks {
            let mark = check.passed ? "ok  " : "FAIL"
            let detail = check.detail.isEmpty ? "" : "  (\(check.detail))"
            lines.append("  \(mark) \(check.name)\(detail)")
        }
        lines.append(passed ? "result: ok" : "result: FAILED")
        return lines.joined(separator: "\n")
    }

    /// One line of JSON: scenario, clients, every figure by key, every check, and `passed`.
    public func json() -> String {
        var parts = ["\"scenario\":\(Self.quoted(scenario))", "\"clients\":\(clients)"]
        for figure in figures {
            parts.append("\(Self.quoted(figure.key)):\(Self.number(figure.value))")
        }
        let checks = checks.map {
            "{\"name\":\(Self.quoted($0.name)),\"passed\":\($0.passed),\"detail\":\(Self.quoted($0.detail))}"
        }
        parts.append("\"checks\":[\(checks.joined(separator: ","))]")
        parts.append("\"passed\":\(passed)")
        return "{" + parts.joined(separator: ",") + "}"
    }

    /// A value with its unit, rounded for reading.
    static func format(_ value: Double, _ unit: String) -> String {
        switch unit {
        case "ms": return String(format: "%.1f ms", value)
        case "s": return String(format: "%.3f s", value)
        case "%": return String(format: "%.1f %%", value)
        case "B": return value >= 10 * 1024 ? String(format: "%.1f MiB", value / 1_048_576) : String(format: "%.0f B", value)
        case "KiB": return String(format: "%.2f KiB", value)
        case "/s": return grouped(value) + " /s"
        case "ns": return String(format: "%.0f ns", value)
        default: return grouped(value) + (unit.isEmpty ? "" : " " + unit)
        }
    }

    /// An integer with thousands separators, or a short decimal.
    static func grouped(_ value: Double) -> String {
        guard value.isFinite else { return "\(value)" }
        if value != value.rounded() && abs(value) < 1000 { return String(format: "%.2f", value) }
        let digits = String(Int64(value.rounded()).magnitude)
        var out = ""
        for (offset, character) in digits.enumerated() {
            if offset > 0 && (digits.count - offset) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return (value < 0 ? "-" : "") + out
    }

    private static func number(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        if value == value.rounded() && abs(value) < 1e15 { return String(Int64(value)) }
        return String(format: "%.6g", value)
    }

    private static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
