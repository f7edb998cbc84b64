import ArgumentParser
import Foundation
import StellingAnalysis
import StellingCore
import StellingStore

/// `stelling analyse`: the opinion analysis of an event's database, offline (issue 15).
struct Analyse: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyse",
        abstract: "Prints the opinion analysis of an event's database: camps, consensus, divisive statements.",
        discussion: """
            The same figures as GET /analysis.json and the analysis section of report.html (docs/EXPORTS.md).
            With --bench it analyses made-up votes (--participants x --statements, --camps planted camps)
            and prints how long that took on one core, instead of reading a database.
            """)

    @Option(name: .long, help: "The event's SQLite database (the configuration's `database`).")
    var database: String?

    @Flag(name: .long, help: "Print the analysis as JSON (the shape of GET /analysis.json).")
    var json = false

    @Option(name: .long, help: "Language of the plain-language reading: nl or en (default: the event's).")
    var language: String?

    @Flag(name: .long, help: "Measure the analysis on made-up votes instead of reading a database.")
    var bench = false

    @Option(name: .long, help: "Participants of the made-up votes (--bench).")
    var participants: Int = 10_000

    @Option(name: .long, help: "Statements of the made-up votes (--bench).")
    var statements: Int = 30

    @Option(name: .long, help: "Planted camps in the made-up votes (--bench).")
    var camps: Int = 3

    @Option(name: .long, help: "Runs to measure (--bench); the fastest and the median are printed.")
    var runs: Int = 5

    func validate() throws {
        if bench {
            guard participants >= 0, statements >= 1, camps >= 1, runs >= 1 else {
                throw ValidationError("--participants must be 0 or more, --statements, --camps and --runs 1 or more")
            }
        } else if database == nil {
            throw ValidationError("give --database FILE (or --bench)")
        }
        if let language, language != "nl", language != "en" { throw ValidationError("--language must be nl or en") }
    }

    func run() throws {
        if bench { return measure() }
        guard let database, FileManager.default.fileExists(atPath: database) else {
            throw ValidationError("no database at \(database ?? "")")
        }
        do {
            let exporter = try Exporter(databasePath: database)
            if json {
                FileHandle.standardOutput.write(Data(exporter.analysisJSON()))
            } else {
                print(exporter.analysisText(language: language))
            }
        } catch {
            FileHandle.standardError.write(Data("stelling analyse: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    private func measure() {
        let input = AnalysisInput.planted(participants: participants, statements: statements, camps: camps,
                                          groups: ["Gemeente", "Provincie", "Rijk"])
        var seconds: [Double] = [], cpu: [Double] = []
        var last: Analysis?
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds, startCPU = threadCPUSeconds()
            last = try? Analysis(input)
            cpu.append(threadCPUSeconds() - startCPU)
            seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        seconds.sort()
        cpu.sort()
        let camps = last?.opinionGroups.map { "\($0.id) \($0.size)" }.joined(separator: ", ") ?? ""
        print("analysis of \(participants) participants x \(statements) statements, \(runs) runs on one thread: "
            + "CPU time fastest \(format(cpu[0])) s, median \(format(cpu[cpu.count / 2])) s; "
            + "wall clock fastest \(format(seconds[0])) s, median \(format(seconds[seconds.count / 2])) s; camps found: \(camps)")
    }

    /// This thread's CPU time: the figure that does not depend on what else the machine runs.
    private func threadCPUSeconds() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    private func format(_ value: Double) -> String {
        let thousandths = Int((value * 1000).rounded())
        return "\(thousandths / 1000).\(String(thousandths % 1000 + 1000).dropFirst())"
    }
}
