import CWebSockets
import Logging

extension WebSocketServer {
    /// HTTP_CONFIRM_UPGRADE: asks the `UpgradePolicy`; a refusal is answered here with its
    /// HTTP status and the connection closed (false).
    func confirmUpgrade(_ wsi: OpaquePointer, upgrade: String) -> Bool {
        let request = UpgradePolicy.Request(
            upgrade: upgrade,
            path: Headers.value(wsi, WSI_TOKEN_GET_URI),
            origin: Headers.value(wsi, WSI_TOKEN_ORIGIN),
            host: Headers.value(wsi, WSI_TOKEN_HOST),
            offeredProtocols: Headers.value(wsi, WSI_TOKEN_PROTOCOL),
            admission: admission(wsi),
            shuttingDown: shuttingDown)
        switch upgradePolicy.decide(request) {
        case .accept:
            return true
        case .refuse(let refusal, let response):
            if refusal == .origin {
                statistics.refusedOrigin += 1
                logger.info("upgrade refused for its origin", metadata: [
                    "http.origin": "\(request.origin ?? "")", "client.address": "\(PeerAddress.truncated(clientAddress(wsi)))",
                ])
            }
            _ = respondAndClose(wsi, response)
            return false
        }
    }

    /// FILTER_PROTOCOL_CONNECTION, lws' last word after it chose the subprotocol: only ours,
    /// only on the WebSocket path, none while shutting down. `confirmUpgrade` has answered the
    /// usual refusals already.
    func acceptsUpgrade(_ wsi: OpaquePointer, webSocketProtocol: Bool) -> Bool {
        guard webSocketProtocol, !shuttingDown else { return false }
        return upgradePolicy.isWebSocketPath(Headers.value(wsi, WSI_TOKEN_GET_URI))
    }
}
