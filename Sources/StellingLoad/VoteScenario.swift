struct VoteScenario {
    let load: LoadRun
    func run() throws(LoadError) -> LoadReport { throw LoadError("todo") }
}
struct EventScenario {
    let load: LoadRun
    func run() throws(LoadError) -> LoadReport { throw LoadError("todo") }
}
