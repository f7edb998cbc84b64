import StellingCore
@testable import StellingServer
import Testing
@testable import StellingLWS

/// The configuration keys of PROTOCOL.md Revision 2 and issue 11 section 4.
@Suite("Revision 2 configuration keys")
struct Revision2ConfigurationTests {
    private func refused(_ yaml: String) -> ConfigurationError? {
        do {
            _ = try ConfigurationFile.parse(yaml: yaml, environment: [:])
            return nil
        } catch {
            return error
        }
    }

    @Test func theDefaultsAreTheProtocols() throws {
        let configuration = try ConfigurationFile.parse(yaml: "title: T\n", environment: [:]).room
        #expect(configuration.questionsModerated == false)
        #expect(configuration.questionsOpen == true)
        #expect(configuration.publicURL == nil)
        #expect(configuration.limits.questionBurst == 2)
        #expect(configuration.limits.questionsPerMinute == 2)
        #expect(configuration.limits.questionChars == 300)
        #expect(configuration.limits.chatBudgetPerSecond == 50)
    }

    @Test func everyKeyIsRead() throws {
        let yaml = """
            title: T
            public_url: https://seminar.example.nl/stelling/
            questions:
              moderated: true
              open: false
            limits:
              question_burst: 4
              questions_per_minute: 0.5
              question_chars: 200
              chat_budget_per_second: 20
              chat_fanout_per_second: 25000
            """
        let configuration = try ConfigurationFile.parse(yaml: yaml, environment: [:]).room
        #expect(configuration.publicURL == "https://seminar.example.nl/stelling/")
        #expect(configuration.questionsModerated == true)
        #expect(configuration.questionsOpen == false)
        #expect(configuration.limits.questionBurst == 4)
        #expect(configuration.limits.questionsPerMinute == 0.5)
        #expect(configuration.limits.questionChars == 200)
        #expect(configuration.limits.chatBudgetPerSecond == 20)
        #expect(configuration.limits.chatFanoutPerSecond == 25000)
    }

    @Test(arguments: ["http://127.0.0.1:8080/", "https://seminar.example.nl", "HTTPS://Seminar.Example.NL/zaal-1/"])
    func goodPublicURLsAreTaken(url: String) throws {
        #expect(try ConfigurationFile.parse(yaml: "title: T\npublic_url: \(url)\n", environment: [:]).room.publicURL == url)
    }

    @Test(arguments: [
        ("title: T\npublic_url: seminar.example.nl\n", "public_url", 2, "expected an http or https address"),
        ("title: T\npublic_url: ftp://seminar.example.nl/\n", "public_url", 2, "expected an http or https address"),
        ("title: T\npublic_url: https:///pad\n", "public_url", 2, "no host name"),
        ("title: T\npublic_url: https://a:b@seminar.example.nl/\n", "public_url", 2, "user name or password"),
        ("title: T\npublic_url: https://seminar.example.nl/?x=1\n", "public_url", 2, "a query"),
        ("title: T\npublic_url: [https://a]\n", "public_url", 2, "expected text"),
        ("title: T\nquestions:\n  moderated: yes please\n", "questions.moderated", 3, "expected true or false"),
        ("title: T\nquestions:\n  open: 1\n", "questions.open", 3, "expected true or false"),
        ("title: T\nquestions: true\n", "questions", 2, "expected a mapping"),
        ("title: T\nquestions:\n  moderate: true\n", "questions.moderate", 3, "did you mean 'moderated'?"),
        ("title: T\nlimits:\n  question_chars: 0\n", "limits.question_chars", 3, "must be at least 1"),
        ("title: T\nlimits:\n  question_burst: two\n", "limits.question_burst", 3, "expected a whole number"),
        ("title: T\nlimits:\n  questions_per_minute: 0\n", "limits.questions_per_minute", 3, "must be more than 0"),
        ("title: T\nlimits:\n  chat_budget_per_second: -5\n", "limits.chat_budget_per_second", 3, "must be more than 0"),
        ("title: T\nlimits:\n  chat_budget: 10\n", "limits.chat_budget", 3, "did you mean 'chat_budget_per_second'?"),
        ("title: T\nchat_budget_per_second: 10\n", "chat_budget_per_second", 2, "belongs under `limits:`"),
    ])
    func mistakesAreReportedWithPathLineAndHint(yaml: String, path: String, line: Int, text: String) throws {
        let error = try #require(refused(yaml))
        try #require(error.problems.count == 1, "\(error)")
        let problem = error.problems[0]
        #expect(problem.path == path)
        #expect(problem.line == line)
        #expect((problem.message + " " + (problem.hint ?? "")).contains(text), "\(problem.message) / \(problem.hint ?? "")")
    }
}
