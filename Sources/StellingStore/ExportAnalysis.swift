import Foundation
import StellingAnalysis
import StellingCore
import Synchronization

extension ExportSnapshot {
    /// The analysis input: the statements that were shown and have per-participant votes, and every
    /// participant's final vote on each. With a secret ballot a closed statement keeps only its
    /// counts, so it is not in the analysis (docs/EXPORTS.md, analysis).
    func analysisInput() -> AnalysisInput {
        let shown = room.statements.filter { $0.openedAt != nil && !(finalVotes[$0.id]?.isEmpty ?? true) }
        var input = AnalysisInput(statements: shown.map { .init(id: $0.id.rawValue, text: $0.text) },
                                  configuredGroups: configuration.groups)
        let columns = shown.map { finalVotes[$0.id] ?? [:] }
        for id in participantOrder {
            let votes = columns.map { $0[id]?.choice }
            guard votes.contains(where: { $0 != nil }) else { continue }
            // The count always matches: one entry per statement of the input.
            try? input.add(.init(id: id.rawValue, group: room.participants[id]?.group, votes: votes))
        }
        return input
    }

    /// The opinion analysis of the votes in the snapshot, made once (session.json and report.html share it).
    func analysis() -> Analysis {
        analysisCache.value {
            // The input has one vote entry per statement and no partition is given, so this cannot throw.
            (try? Analysis(analysisInput())) ?? (try! Analysis(AnalysisInput(statements: [], configuredGroups: [])))
        }
    }

    /// analysis.json: the analysis with `computed_at` the export time.
    func analysisJSON() -> [UInt8] { analysis().json(computedAt: exportedAt.rfc3339) }
}

/// The report's analysis section: words, camp colours and shapes.
enum AnalysisReport {
    /// The cells of one row of counts that report.html withholds under `privacy.min_group_size`:
    /// those with at least one but fewer than `minimum` people, and when that is one cell only,
    /// the smallest other non-empty cell too, so it cannot be worked out from the row's total.
    static func withheld(_ counts: [Int], minimum: Int) -> Set<Int> {
        var withheld = Set(counts.indices.filter { counts[$0] > 0 && counts[$0] < minimum })
        if withheld.count == 1,
           let next = counts.indices.filter({ counts[$0] > 0 && !withheld.contains($0) }).min(by: { counts[$0] < counts[$1] }) {
            withheld.insert(next)
        }
        return withheld
    }

    /// Camp colours, each at least 3:1 against white (WCAG 1.4.11); camps also differ by shape and letter.
    static let colours = ["#0072b2", "#b34700", "#00785a", "#7b3294", "#444444"]

    struct Labels {
        var title, reading, map, mapLabel, noCamps, camp, people, consensusRanking, divisivenessRanking: String
        var consensus, divisiveness, agrees, disagrees, ofCamp, noRepresentative, campsByGroup, group, noAnalysis: String
        var axisNote: String
        var smallGroupsNote: String

        /// The note under the camps × groups table when small groups are withheld.
        func smallGroups(_ minimum: Int) -> String { smallGroupsNote.replacingOccurrences(of: "{n}", with: String(minimum)) }

        static let dutch = Labels(
            title: "Analyse: waar de zaal het eens is en waar het verdeeld is", reading: "In gewone woorden",
            map: "Meningskaart", mapLabel: "Meningskaart: elke stip is een deelnemer; wie dicht bij elkaar staat, stemde ongeveer hetzelfde",
            noCamps: "Geen kampen: te weinig deelnemers met genoeg stemmen.", camp: "Kamp", people: "mensen",
            consensusRanking: "Stellingen waar alle kampen het over eens zijn (hoogste eerst)",
            divisivenessRanking: "Stellingen die de zaal verdelen (meest verdeeld eerst)",
            consensus: "Overeenstemming", divisiveness: "Verdeeldheid", agrees: "eens", disagrees: "oneens",
            ofCamp: "van het kamp", noRepresentative: "Geen stelling onderscheidt dit kamp duidelijk.",
            campsByGroup: "Kampen per groep", group: "Groep", noAnalysis: "Nog geen stemmen om te analyseren.",
            axisNote: "De assen hebben geen vaste betekenis: ze volgen de grootste verschillen in het stemgedrag.",
            smallGroupsNote: "Groepen met minder dan {n} geanalyseerde deelnemers staan er niet uitgesplitst in, en een kamp met minder dan {n} deelnemers uit een groep toont geen aantal (privacy).")

        static let english = Labels(
            title: "Analysis: where the room agrees and where it splits", reading: "In plain words",
            map: "Opinion map", mapLabel: "Opinion map: each dot is a participant; people close together voted alike",
            noCamps: "No camps: too few participants with enough votes.", camp: "Camp", people: "people",
            consensusRanking: "Statements every camp agrees on (highest first)",
            divisivenessRanking: "Statements that divide the room (most divided first)",
            consensus: "Consensus", divisiveness: "Divisiveness", agrees: "agrees", disagrees: "disagrees",
            ofCamp: "of the camp", noRepresentative: "No statement clearly sets this camp apart.",
            campsByGroup: "Camps by group", group: "Group", noAnalysis: "No votes to analyse yet.",
            axisNote: "The axes have no fixed meaning: they follow the largest differences in how people voted.",
            smallGroupsNote: "Groups with fewer than {n} analysed participants are not broken down, and a camp with fewer than {n} of a group shows no count (privacy).")
    }

    /// The SVG shape of camp `index` (or a grey circle without a camp) centred at (x, y).
    static func marker(_ index: Int?, x: String, y: String, size: Double = 3.5) -> String {
        guard let index else { return "<circle cx=\"\(x)\" cy=\"\(y)\" r=\"\(size)\" fill=\"#666666\"/>" }
        let colour = colours[index % colours.count]
        let sx = Double(x) ?? 0, sy = Double(y) ?? 0
        func p(_ dx: Double, _ dy: Double) -> String { "\(round1(sx + dx)),\(round1(sy + dy))" }
        switch index % 5 {
        case 0: return "<circle cx=\"\(x)\" cy=\"\(y)\" r=\"\(size)\" fill=\"\(colour)\"/>"
        case 1: return "<rect x=\"\(round1(sx - size))\" y=\"\(round1(sy - size))\" width=\"\(round1(2 * size))\" height=\"\(round1(2 * size))\" fill=\"\(colour)\"/>"
        case 2: return "<polygon points=\"\(p(0, -size * 1.2)) \(p(size * 1.1, size * 0.8)) \(p(-size * 1.1, size * 0.8))\" fill=\"\(colour)\"/>"
        case 3: return "<polygon points=\"\(p(0, -size * 1.3)) \(p(size * 1.3, 0)) \(p(0, size * 1.3)) \(p(-size * 1.3, 0))\" fill=\"\(colour)\"/>"
        default: return "<path d=\"M\(p(-size, -size))L\(p(size, size))M\(p(size, -size))L\(p(-size, size))\" stroke=\"\(colour)\" stroke-width=\"2\"/>"
        }
    }

    static func round1(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        let sign = tenths < 0 ? "-" : ""
        return tenths % 10 == 0 ? "\(sign)\(abs(tenths) / 10)" : "\(sign)\(abs(tenths) / 10).\(abs(tenths) % 10)"
    }

    /// The opinion map as one SVG element without script: a dot per participant, shaped and
    /// coloured by camp, each camp's letter at its centre, and a legend.
    static func map(_ analysis: Analysis, ariaLabel: String, campWord: String, peopleWord: String) -> String {
        // The legend: three camps a row above the map.
        let legendRows = max(1, (analysis.opinionGroups.count + 2) / 3)
        let width = 640.0, margin = 24.0, legend = 8.0 + 22.0 * Double(legendRows), height = 372.0 + legend
        let xs = analysis.participants.map(\.x), ys = analysis.participants.map(\.y)
        let spanX = max((xs.max() ?? 0) - (xs.min() ?? 0), 1e-9), spanY = max((ys.max() ?? 0) - (ys.min() ?? 0), 1e-9)
        let scale = min((width - 2 * margin) / spanX, (height - legend - 2 * margin) / spanY)
        let midX = ((xs.max() ?? 0) + (xs.min() ?? 0)) / 2, midY = ((ys.max() ?? 0) + (ys.min() ?? 0)) / 2
        func px(_ x: Double) -> String { round1(width / 2 + (x - midX) * scale) }
        func py(_ y: Double) -> String { round1(legend + (height - legend) / 2 - (y - midY) * scale) }
        let index = Dictionary(uniqueKeysWithValues: analysis.opinionGroups.enumerated().map { ($1.id, $0) })
        var svg = "<svg class=\"opinion-map\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(ReportHTML.escape(ariaLabel))\">\n"
        svg += "<rect x=\"0.5\" y=\"\(Int(legend)).5\" width=\"\(Int(width) - 1)\" height=\"\(Int(height - legend) - 1)\" fill=\"none\" stroke=\"#d0d0d0\"/>\n"
        for (i, point) in analysis.participants.enumerated() {
            // People who voted exactly alike share a place: a small fixed offset (at most 3 units) keeps them visible.
            let jx = (Double((UInt64(i) &* 2_654_435_761) % 1000) / 1000 - 0.5) * 6
            let jy = (Double((UInt64(i) &* 40503 &+ 7919) % 1000) / 1000 - 0.5) * 6
            svg += marker(point.opinionGroup.flatMap { index[$0] }, x: round1((Double(px(point.x)) ?? 0) + jx),
                          y: round1((Double(py(point.y)) ?? 0) + jy))
        }
        svg += "\n"
        for (i, group) in analysis.opinionGroups.enumerated() {
            svg += "<text x=\"\(px(group.centre.x))\" y=\"\(py(group.centre.y))\" font-size=\"20\" font-weight=\"700\" text-anchor=\"middle\" stroke=\"#ffffff\" stroke-width=\"4\" paint-order=\"stroke\">\(group.id)</text>"
            let lx = 8.0 + Double(i % 3) * 210, ly = 12.0 + 22.0 * Double(i / 3)
            svg += marker(i, x: round1(lx + 6), y: round1(ly), size: 5)
            svg += "<text x=\"\(round1(lx + 16))\" y=\"\(round1(ly + 5))\">\(ReportHTML.escape(campWord)) \(group.id) (\(group.size) \(ReportHTML.escape(peopleWord)))</text>\n"
        }
        return svg + "</svg>\n"
    }
}

extension ExportSnapshot {
    /// The report's analysis section (docs/EXPORTS.md, report.html).
    func analysisSection(language: String) -> String {
        let labels = language == "en" ? AnalysisReport.Labels.english : AnalysisReport.Labels.dutch
        let decimal = language == "en" ? "." : ","
        let analysis = analysis()
        var html = "<section class=\"analysis\" id=\"analysis\">\n<h2>\(ReportHTML.escape(labels.title))</h2>\n"
        guard !analysis.participants.isEmpty else {
            return html + "<p class=\"empty\">\(labels.noAnalysis)</p>\n</section>\n"
        }
        let text = Dictionary(uniqueKeysWithValues: analysis.statements.map { ($0.id, $0.text) })
        func number(_ value: Double?) -> String {
            guard let value else { return "–" }
            let hundredths = Int((value * 100).rounded())
            let fraction = hundredths % 100
            return "\(hundredths / 100)\(decimal)\(fraction < 10 ? "0" : "")\(fraction)"
        }
        func percent(_ value: Double?) -> String {
            value.map { "\(Int(($0 * 100).rounded()))%" } ?? "–"
        }
        html += "<h3>\(labels.reading)</h3>\n<ul class=\"reading\">\n"
        let minimum = configuration.privacy.minGroupSize
        for line in analysis.reading(language: language, minimumGroupSize: minimum) { html += "<li>\(ReportHTML.escape(line))</li>\n" }
        html += "</ul>\n"

        html += "<h3>\(labels.map)</h3>\n"
        html += AnalysisReport.map(analysis, ariaLabel: labels.mapLabel, campWord: labels.camp, peopleWord: labels.people)
        html += "<p class=\"meta\">\(labels.axisNote)</p>\n"
        if analysis.opinionGroups.isEmpty { html += "<p class=\"empty\">\(labels.noCamps)</p>\n" }

        func ranking(_ title: String, _ statements: [Analysis.StatementFigures]) -> String {
            var table = "<h3>\(ReportHTML.escape(title))</h3>\n<table class=\"ranking\">\n<thead><tr><th>\(ReportHTML.escape(ReportHTML.Labels.forLanguage(language).statement))</th>"
            table += "<th>\(labels.consensus)</th><th>\(labels.divisiveness)</th></tr></thead>\n<tbody>\n"
            for statement in statements {
                let consensus = analysis.opinionGroups.isEmpty ? statement.configuredGroupConsensus : statement.groupConsensus
                table += "<tr><td>\(ReportHTML.escape(statement.text))</td><td>\(number(consensus))</td><td>\(number(statement.divisiveness))</td></tr>\n"
            }
            return table + "</tbody>\n</table>\n"
        }
        if !analysis.mostAgreed.isEmpty { html += ranking(labels.consensusRanking, analysis.mostAgreed) }
        html += ranking(labels.divisivenessRanking, analysis.mostDivisive)

        for group in analysis.opinionGroups {
            html += "<h3>\(labels.camp) \(group.id) (\(group.size) \(labels.people))</h3>\n"
            guard !group.representative.isEmpty else {
                html += "<p class=\"empty\">\(labels.noRepresentative)</p>\n"
                continue
            }
            html += "<ul class=\"representative\">\n"
            for representative in group.representative {
                let verb = representative.direction == .agree ? labels.agrees : labels.disagrees
                html += "<li>\(verb) (\(percent(representative.share)) \(labels.ofCamp)): \(ReportHTML.escape(text[representative.statement] ?? representative.statement))</li>\n"
            }
            html += "</ul>\n"
        }

        if !analysis.opinionGroups.isEmpty, !analysis.configuredGroups.isEmpty {
            html += "<h3>\(labels.campsByGroup)</h3>\n<table class=\"camps-by-group\">\n<thead><tr><th>\(labels.group)</th>"
            for group in analysis.opinionGroups { html += "<th>\(labels.camp) \(group.id)</th>" }
            html += "</tr></thead>\n<tbody>\n"
            // privacy.min_group_size (docs/PRIVACY.md): a group with fewer members analysed shows
            // "< N" for the whole row, as the per-statement tables do; in a larger group a camp
            // cell under the minimum shows "< N" too (a lone one with the next smallest).
            var withheld = false
            for (index, name) in analysis.configuredGroups.enumerated() {
                html += "<tr><td>\(ReportHTML.escape(name))</td>"
                let members = analysis.opinionGroups.reduce(0) { $0 + $1.byGroup[index].count }
                if members > 0, members < minimum {
                    // As the per-statement tables do: a small group's camps could point to its members.
                    withheld = true
                    html += "<td colspan=\"\(analysis.opinionGroups.count)\">&lt; \(minimum)</td></tr>\n"
                    continue
                }
                let small = AnalysisReport.withheld(analysis.opinionGroups.map { $0.byGroup[index].count }, minimum: minimum)
                withheld = withheld || !small.isEmpty
                for (camp, group) in analysis.opinionGroups.enumerated() {
                    let share = group.byGroup[index]
                    html += small.contains(camp) ? "<td>&lt; \(minimum)</td>" : "<td>\(share.count) (\(percent(share.share)))</td>"
                }
                html += "</tr>\n"
            }
            html += "</tbody>\n</table>\n"
            if withheld { html += "<p class=\"meta\">\(ReportHTML.escape(labels.smallGroups(minimum)))</p>\n" }
        }
        return html + "</section>\n"
    }
}

/// Holds a snapshot's analysis once made. The snapshot never changes, so neither does its analysis.
final class AnalysisCache: Sendable {
    private let analysis = Mutex<Analysis?>(nil)

    /// The analysis, made by `make` the first time (under the lock, so it is made once).
    func value(_ make: () -> Analysis) -> Analysis {
        analysis.withLock { analysis in
            if let analysis { return analysis }
            let made = make()
            analysis = made
            return made
        }
    }
}
