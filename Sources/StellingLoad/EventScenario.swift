struct EventScenario {
    let load: LoadRun
    func run() throws(LoadError) -> LoadReport { throw LoadError("todo") }
}
