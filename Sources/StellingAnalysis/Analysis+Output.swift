import StellingCore

extension Analysis {
    /// The analysis as the JSON object of docs/EXPORTS.md (`GET /analysis.json`, session.json's
    /// `"analysis"`). `computedAt` is an RFC 3339 time: the caller owns the clock.
    public func write(to json: inout JSONWriter, computedAt: String) {
        json.beginObject()
        json.field("computed_at", computedAt)
        json.field("participants_analysed", participants.count)
        json.field("minimum_votes", minimumVotes)
        json.key("silhouette"); optional(silhouette, &json)
        json.key("explained_variance")
        json.beginArray(); for value in explainedVariance { json.number(value) }; json.endArray()
        json.key("configured_groups"); json.beginArray(); for group in configuredGroups { json.string(group) }; json.endArray()

        json.key("statements")
        json.beginArray()
        for statement in statements {
            json.beginObject()
            json.field("id", statement.id)
            json.field("text", statement.text)
            json.field("agree", statement.agree)
            json.field("disagree", statement.disagree)
            json.field("pass", statement.pass)
            json.field("voters", statement.voters)
            json.key("divisiveness"); optional(statement.divisiveness, &json)
            json.key("group_consensus"); optional(statement.groupConsensus, &json)
            json.key("configured_group_consensus"); optional(statement.configuredGroupConsensus, &json)
            json.key("by_opinion_group")
            json.beginObject()
            for (index, counts) in statement.byOpinionGroup.enumerated() {
                json.key(opinionGroups[index].id)
                json.beginObject()
                json.field("agree", counts.agree); json.field("disagree", counts.disagree); json.field("pass", counts.pass)
                json.endObject()
            }
            json.endObject()
            json.endObject()
        }
        json.endArray()

        json.key("opinion_groups")
        json.beginArray()
        for group in opinionGroups {
            json.beginObject()
            json.field("id", group.id)
            json.field("size", group.size)
            json.key("x"); json.number(group.centre.x)
            json.key("y"); json.number(group.centre.y)
            json.key("by_group")
            json.beginObject()
            for share in group.byGroup {
                json.key(share.group)
                json.beginObject()
                json.field("count", share.count)
                json.key("share"); optional(share.share, &json)
                json.endObject()
            }
            json.endObject()
            json.key("representative")
            json.beginArray()
            for representative in group.representative {
                json.beginObject()
                json.field("statement", representative.statement)
                json.field("direction", representative.direction.rawValue)
                json.key("repness"); json.number(representative.repness)
                json.key("z"); json.number(representative.z)
                json.key("share"); json.number(representative.share)
                json.endObject()
            }
            json.endArray()
            json.endObject()
        }
        json.endArray()

        json.key("participants")
        json.beginArray()
        for point in participants {
            json.beginObject()
            json.field("id", point.id)
            json.field("group", point.group)
            json.key("x"); json.number(point.x)
            json.key("y"); json.number(point.y)
            json.field("opinion_group", point.opinionGroup)
            json.endObject()
        }
        json.endArray()
        json.endObject()
    }

    /// The analysis as one JSON document (with a final newline).
    public func json(computedAt: String) -> [UInt8] {
        var json = JSONWriter()
        write(to: &json, computedAt: computedAt)
        var bytes = json.bytes
        bytes.append(0x0A)
        return bytes
    }

    private func optional(_ value: Double?, _ json: inout JSONWriter) {
        if let value { json.number(value) } else { json.null() }
    }

    // MARK: Rankings

    /// Statements with votes on both sides, the most divisive first (ties: more voters first, then event order).
    public var mostDivisive: [StatementFigures] {
        statements.filter { $0.divisiveness != nil }.enumerated().sorted { a, b in
            if a.element.divisiveness! != b.element.divisiveness! { return a.element.divisiveness! > b.element.divisiveness! }
            if a.element.voters != b.element.voters { return a.element.voters > b.element.voters }
            return a.offset < b.offset
        }.map(\.element)
    }

    /// Statements by group-informed consensus, highest first (over the camps, or over the configured
    /// groups when there are no camps; ties in event order). Empty when neither exists.
    public var mostAgreed: [StatementFigures] {
        let key: (StatementFigures) -> Double? = opinionGroups.isEmpty ? { $0.configuredGroupConsensus } : { $0.groupConsensus }
        return statements.enumerated().compactMap { item in key(item.element).map { (item.offset, $0, item.element) } }
            .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
            .map(\.2)
    }

    /// Statements on which a majority of every camp's voters agreed (or, for `.disagree`, disagreed),
    /// by group-informed consensus.
    public func everyCamp(_ direction: Direction) -> [StatementFigures] {
        guard !opinionGroups.isEmpty else { return [] }
        return statements.filter { statement in
            statement.byOpinionGroup.allSatisfy { counts in
                counts.voters > 0 && 2 * (direction == .agree ? counts.agree : counts.disagree) > counts.voters
            }
        }.sorted { ($0.groupConsensus ?? 0) > ($1.groupConsensus ?? 0) }
    }

    // MARK: Plain-language reading

    /// A few sentences that say what the analysis shows, in Dutch (`"nl"`) or English (otherwise).
    /// A configured group with fewer analysed participants than `minimumGroupSize` gets no
    /// sentence (its members' camps could point to them; docs/PRIVACY.md, min_group_size).
    public func reading(language: String, minimumGroupSize: Int = 0) -> [String] {
        let nl = language == "nl"
        var lines: [String] = []
        let text = { (id: String) in "“" + (statements.first { $0.id == id }?.text ?? id) + "”" }
        guard !participants.isEmpty else {
            return [nl ? "Er zijn nog geen deelnemers met genoeg stemmen voor een analyse (minstens \(minimumVotes) stellingen)."
                       : "No participant has voted on enough statements for an analysis yet (at least \(minimumVotes))."]
        }
        if opinionGroups.isEmpty {
            lines.append(nl
                ? "\(participants.count) deelnemers stemden op minstens \(minimumVotes) stellingen; dat is te weinig om kampen te zoeken (minstens \(Analysis.minimumParticipantsForGroups))."
                : "\(participants.count) participants voted on at least \(minimumVotes) statements; too few to look for camps (at least \(Analysis.minimumParticipantsForGroups)).")
        } else {
            let list = opinionGroups.map { "\($0.id) (\($0.size))" }.joined(separator: ", ")
            lines.append(nl
                ? "\(participants.count) deelnemers stemden op minstens \(minimumVotes) stellingen. Naar hun stemgedrag vallen ze in \(opinionGroups.count) kampen: \(list)."
                : "\(participants.count) participants voted on at least \(minimumVotes) statements. By how they voted they fall into \(opinionGroups.count) camps: \(list).")
            if let agreed = everyCamp(.agree).first {
                lines.append(nl ? "Alle groepen eens over \(text(agreed.id))." : "All groups agree on \(text(agreed.id)).")
            } else if let disagreed = everyCamp(.disagree).first {
                lines.append(nl ? "Alle groepen oneens met \(text(disagreed.id))." : "All groups disagree with \(text(disagreed.id)).")
            } else {
                lines.append(nl ? "Er is geen stelling waarover alle kampen het eens zijn."
                                : "There is no statement every camp agrees on.")
            }
        }
        if let split = mostDivisive.first, let divisiveness = split.divisiveness, divisiveness >= 0.5 {
            let agree = percent(split.agree, of: split.voters), disagree = percent(split.disagree, of: split.voters)
            lines.append(nl ? "Het meest verdeeld: \(text(split.id)) (\(agree)% eens, \(disagree)% oneens)."
                            : "Most divided: \(text(split.id)) (\(agree)% agree, \(disagree)% disagree).")
        }
        for group in opinionGroups {
            guard let top = group.representative.first else { continue }
            let verb = nl ? (top.direction == .agree ? "vaker eens met" : "vaker oneens met")
                          : (top.direction == .agree ? "agrees more often with" : "disagrees more often with")
            lines.append(nl ? "Kamp \(group.id) (\(group.size) mensen) is het \(verb) \(text(top.statement)) dan de rest."
                            : "Camp \(group.id) (\(group.size) people) \(verb) \(text(top.statement)) than the rest.")
        }
        if !opinionGroups.isEmpty {
            for (index, name) in configuredGroups.enumerated() {
                let shares = opinionGroups.map { ($0.id, $0.byGroup[index]) }
                guard let top = shares.max(by: { ($0.1.share ?? 0) < ($1.1.share ?? 0) }), let share = top.1.share else { continue }
                let total = shares.reduce(0) { $0 + $1.1.count }
                guard total >= minimumGroupSize else { continue }
                lines.append(nl ? "\(name): \(Int((share * 100).rounded()))% van de \(total) deelnemers zit in kamp \(top.0)."
                                : "\(name): \(Int((share * 100).rounded()))% of its \(total) participants are in camp \(top.0).")
            }
        }
        return lines
    }

    private func percent(_ part: Int, of whole: Int) -> Int {
        whole == 0 ? 0 : Int((Double(part) * 100 / Double(whole)).rounded())
    }
}
