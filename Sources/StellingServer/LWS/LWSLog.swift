import CWebSockets
import Logging

/// Routes libwebsockets' own log lines into the server's `Logger`. lws has one process-wide
/// log hook, so the last server started owns it.
enum LWSLog {
    private final class Sink: @unchecked Sendable {
        let lock = Lock()
        var logger: Logger?
    }

    private static let sink = Sink()

    /// Sends lws errors and warnings (and notices when the logger is at debug or below) to `logger`.
    static func install(_ logger: Logger) {
        sink.lock.withLock { sink.logger = logger }
        var levels = LLL_ERR | LLL_WARN
        if logger.logLevel <= .debug { levels |= LLL_NOTICE }
        lws_set_log_level(levels, emitLWSLogLine)
    }

    fileprivate static func emit(level: Int32, line: String) {
        guard let logger = sink.lock.withLock({ sink.logger }) else { return }
        // lws may name a peer in its lines: addresses are truncated (docs/PRIVACY.md, Logs).
        let text = PeerAddress.redacted(line.trimmingTrailingWhitespace())
        let metadata: Logger.Metadata = ["lws.line": .string(text)]
        if level & LLL_ERR != 0 {
            logger.error("libwebsockets error", metadata: metadata)
        } else if level & LLL_WARN != 0 {
            logger.warning("libwebsockets warning", metadata: metadata)
        } else {
            logger.debug("libwebsockets notice", metadata: metadata)
        }
    }
}

/// The C-compatible emit function handed to `lws_set_log_level`.
private func emitLWSLogLine(_ level: Int32, _ line: UnsafePointer<CChar>?) {
    guard let line else { return }
    LWSLog.emit(level: level, line: String(cString: line))
}

extension String {
    fileprivate func trimmingTrailingWhitespace() -> String {
        var end = endIndex
        while end > startIndex, let last = self[index(before: end)].unicodeScalars.first,
              last == "\n" || last == "\r" || last == " " || last == "\t" {
            end = index(before: end)
        }
        return String(self[..<end])
    }
}
