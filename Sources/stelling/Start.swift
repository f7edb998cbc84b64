import Logging
import StellingCore
import StellingServer

/// Builds and starts the server for a configuration; returns once it listens.
func startServer(configuration: Configuration, logger: Logger, echoConformance: Bool = false) throws -> Server {
    let sink = MemorySink()
    let room = Room(configuration: configuration)
    let options = TransportOptions(configuration: configuration, echoConformance: echoConformance)
    let server = Server(room: room, options: options, sink: sink, logger: logger, registerDurable: { sink.onDurable($0) })
    server.installSignalHandlers()
    try server.start()
    return server
}
