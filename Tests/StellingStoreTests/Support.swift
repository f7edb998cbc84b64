import Foundation
import StellingCore
@testable import StellingStore
import StellingTesting

/// A fresh temporary folder per test, removed when the value goes away.
final class TemporaryFolder {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "stelling-store-tests/" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// A database path inside a folder that does not exist yet (the store makes it).
    var database: String { path + "/data/event.sqlite" }
}

/// The small known session every export test checks cell by cell (docs/EXPORTS.md shows it).
struct KnownSession {
    static let configuration = Configuration(
        title: "Leren, samen <werken>",
        programme: [ProgrammeItem(time: "14:00", item: "Welkom")],
        groups: ["Rijk", "Gemeente"],
        statements: [
            StatementSpec(id: "s1", text: "Leren levert pas iets op als het in de begroting staat."),
            StatementSpec(id: "s2", text: "Samenwerken, \"echt\" samenwerken"),
            StatementSpec(id: "s3", text: "Nooit getoond"),
        ],
        moderatorKey: Harness.key)

    var driver = Harness(KnownSession.configuration)
    var moderator: ParticipantID
    var anna: ParticipantID
    var bram: ParticipantID
    var cees: ParticipantID
    var dora: ParticipantID

    /// Plays the session: four participants, s1 voted and closed, s2 open, s3 never shown, s4 added.
    init() {
        let (mod, moderatorWelcome) = driver.join(Request.Join(role: .moderator, name: "Ruben", key: Harness.key))
        let (annaConnection, annaWelcome) = driver.participant("Anna", group: "Rijk")
        let (bramConnection, bramWelcome) = driver.participant("Bram", group: "Gemeente")
        let (ceesConnection, ceesWelcome) = driver.participant("Cees")
        let (doraConnection, doraWelcome) = driver.participant("Dora", group: "Rijk")
        (moderator, anna, bram, cees, dora) = (moderatorWelcome.you.id, annaWelcome.you.id, bramWelcome.you.id,
                                               ceesWelcome.you.id, doraWelcome.you.id)

        driver.at(1); driver.expectAck(.next, from: mod)
        driver.at(2); driver.expectAck(.vote(statement: "s1", choice: "agree"), from: annaConnection)
        driver.at(3); driver.expectAck(.vote(statement: "s1", choice: "disagree"), from: bramConnection)
        driver.at(4); driver.expectAck(.vote(statement: "s1", choice: "pass"), from: ceesConnection)
        driver.at(5); driver.expectAck(.vote(statement: "s1", choice: "disagree"), from: annaConnection)
        driver.at(6); driver.expectAck(.vote(statement: "s1", choice: "agree"), from: doraConnection)
        driver.at(7); driver.expectAck(.chat(text: "Mooi, zeg \"dat\"\nnieuwe regel"), from: annaConnection)
        driver.at(7.1); driver.expectAck(.chat(text: "=1+1"), from: bramConnection)
        driver.at(7.2); driver.expectAck(.chat(text: "-5 graden"), from: mod)
        driver.at(7.3); driver.expectAck(.chat(text: "<script>alert(1)</script>"), from: ceesConnection)
        driver.at(8); driver.expectAck(.close, from: mod)
        driver.at(8.5); driver.expectAck(.open, from: mod)
        driver.at(9); driver.expectAck(.close, from: mod)
        driver.at(9.5); driver.expectAck(.reveal(visible: true), from: mod)
        driver.room.disconnect(doraConnection)
        driver.at(11); driver.expectAck(.next, from: mod)
        driver.at(12); driver.expectAck(.vote(statement: "s2", choice: "agree"), from: annaConnection)
        driver.at(13); driver.expectAck(.vote(statement: "s2", choice: "agree"), from: bramConnection)
        driver.at(14); driver.expectAck(.hide(message: 4), from: mod)
        driver.at(14.1); driver.expectAck(.mute(participant: bram.rawValue, muted: true), from: mod)
        driver.at(14.2); driver.expectAck(.announce(text: "Pauze om 15:00"), from: mod)
        driver.at(15); driver.expectAck(.add(text: "+31 is het landnummer"), from: mod)
        driver.at(16); driver.expectAck(.announce(text: ""), from: mod)
    }

    /// Writes the session's records to a new store at `path` and closes it.
    func store(at path: String) throws {
        let store = try EventStore(path: path, configuration: KnownSession.configuration)
        var last: UInt64 = 0
        for record in driver.records { last = store.append(record) }
        precondition(store.waitUntilDurable(last, timeout: 10), "records did not become durable")
        store.close()
    }
}

/// Splits RFC 4180 CSV (after the byte order mark) into rows of cells; `nil` if malformed.
func parseCSV(_ bytes: [UInt8]) -> [[String]]? {
    guard bytes.starts(with: [0xEF, 0xBB, 0xBF]) else { return nil }
    let text = Array(String(decoding: bytes.dropFirst(3), as: UTF8.self).unicodeScalars)
    var rows: [[String]] = []
    var row: [String] = []
    var cell = ""
    var index = 0
    var quoted = false
    while index < text.count {
        let scalar = text[index]
        if quoted {
            if scalar == "\"" {
                if index + 1 < text.count, text[index + 1] == "\"" {
                    cell.unicodeScalars.append("\"")
                    index += 1
                } else {
                    quoted = false
                }
            } else {
                cell.unicodeScalars.append(scalar)
            }
        } else if scalar == "\"" {
            guard cell.isEmpty else { return nil }
            quoted = true
        } else if scalar == "," {
            row.append(cell); cell = ""
        } else if scalar == "\r" {
            guard index + 1 < text.count, text[index + 1] == "\n" else { return nil }
            row.append(cell); cell = ""
            rows.append(row); row = []
            index += 1
        } else if scalar == "\n" {
            return nil // a bare LF outside quotes is not RFC 4180
        } else {
            cell.unicodeScalars.append(scalar)
        }
        index += 1
    }
    guard !quoted, row.isEmpty, cell.isEmpty else { return nil }
    return rows
}
