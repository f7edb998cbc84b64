import StellingCore

extension ExportSnapshot {
    /// session.json: everything, as docs/EXPORTS.md describes.
    func sessionJSON() -> [UInt8] {
        var json = JSONWriter()
        json.beginObject()
        json.field("title", configuration.title)
        json.field("language", configuration.language)
        json.field("exported_at", exportedAt.rfc3339)
        json.key("names"); json.bool(names)
        json.field("min_group_size", configuration.privacy.minGroupSize)
        json.field("ballot", configuration.privacy.ballot.rawValue)
        json.key("groups"); json.write(strings: configuration.groups)
        json.key("programme"); json.write(configuration.programme)
        json.key("current"); json.write(room.currentState)
        json.field("announcement", room.announcement)

        json.key("statements")
        json.beginArray()
        for statement in room.statements {
            json.beginObject()
            json.field("id", statement.id.rawValue)
            json.field("position", statement.position)
            json.field("text", statement.text)
            json.key("tally")
            json.beginObject()
            json.field("agree", statement.counts.agree)
            json.field("disagree", statement.counts.disagree)
            json.field("pass", statement.counts.pass)
            json.field("voters", statement.counts.total)
            if let groups = groupCounts(of: statement) {
                json.key("groups")
                json.beginObject()
                for group in groups {
                    json.key(group.name)
                    json.beginObject()
                    json.field("agree", group.counts.agree)
                    json.field("disagree", group.counts.disagree)
                    json.field("pass", group.counts.pass)
                    json.endObject()
                }
                json.endObject()
            }
            json.endObject()
            if let groups = groupCounts(of: statement) {
                // Beside the tally, whose shape is the protocol's: the configured groups that
                // report.html withholds (privacy.min_group_size). The counts above stay exact.
                json.key("withheld_groups")
                let withheld = withheldGroups(of: statement)
                json.write(strings: groups.map(\.name).filter { withheld.contains($0) })
            }
            json.key("present")
            if let present = present(for: statement) { json.integer(present) } else { json.null() }
            json.field("opened_at", statement.openedAt?.rfc3339)
            json.field("closed_at", statement.closedAt?.rfc3339)
            json.key("results_visible")
            json.bool(statement.resultsVisible)
            json.endObject()
        }
        json.endArray()

        json.key("participants")
        json.beginArray()
        for id in participantOrder {
            guard let participant = room.participants[id] else { continue }
            json.beginObject()
            json.field("id", id.rawValue)
            json.field("name", names ? participant.name : nil)
            json.field("group", participant.group)
            json.field("joined_at", joinedAt[id]?.rfc3339)
            json.key("muted")
            json.bool(participant.muted)
            json.endObject()
        }
        json.endArray()

        json.key("votes")
        json.beginArray()
        for statement in room.statements {
            for (participant, vote) in votes(on: statement.id) {
                json.beginObject()
                json.field("statement", statement.id.rawValue)
                json.field("participant", participant.rawValue)
                json.field("choice", vote.choice.rawValue)
                json.field("at", vote.at.rfc3339)
                json.endObject()
            }
        }
        json.endArray()

        json.key("chat")
        json.beginArray()
        for message in room.chat { json.write(message, withHidden: true, withName: names) }
        json.endArray()
        writeQuestions(into: &json)

        json.key("analysis")
        analysis().write(to: &json, computedAt: exportedAt.rfc3339)
        json.endObject()
        var bytes = json.bytes
        bytes.append(0x0A)
        return bytes
    }
}
