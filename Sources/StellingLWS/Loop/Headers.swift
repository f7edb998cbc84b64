import CWebSockets
import StellingCore

/// Reading what libwebsockets parsed from a handshake; on the service thread, inside a callback.
enum Headers {
    /// A header's value (fragments joined by ","), or nil when absent.
    static func value(_ wsi: OpaquePointer, _ token: lws_token_indexes) -> String? {
        let length = Int(lws_hdr_total_length(wsi, token))
        guard length > 0 else { return nil }
        var buffer = [CChar](repeating: 0, count: length * 2 + 2)
        guard lws_hdr_copy(wsi, &buffer, Int32(buffer.count), token) >= 0 else { return nil }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// The query's decoded name=value pairs (lws keeps each as a fragment of the URI_ARGS token).
    static func queryFields(_ wsi: OpaquePointer) -> [String] {
        var parts: [String] = []
        var index: Int32 = 0
        while true {
            let length = Int(lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, index))
            guard length > 0 else { break }
            var buffer = [CChar](repeating: 0, count: length + 1)
            guard lws_hdr_copy_fragment(wsi, &buffer, Int32(buffer.count), WSI_TOKEN_HTTP_URI_ARGS, index) >= 0 else { break }
            parts.append(buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
            index += 1
        }
        return parts
    }

    /// The code and reason of a received close frame (two bytes big-endian, then UTF-8), or nil.
    static func closePayload(_ input: UnsafeMutableRawPointer?, _ length: Int) -> (code: CloseCode, reason: String)? {
        guard let input, length >= 2 else { return nil }
        let bytes = UnsafeRawBufferPointer(start: input, count: length)
        return (CloseCode(rawValue: UInt16(bytes[0]) << 8 | UInt16(bytes[1])),
                String(decoding: bytes.dropFirst(2), as: UTF8.self))
    }

    /// Sets the close frame lws sends when the callback returns -1; the reason is cut to fit
    /// the 125-byte control frame (2 bytes for the code).
    static func setCloseReason(_ wsi: OpaquePointer, code: CloseCode, reason: String) {
        var bytes = Array(reason.utf8.prefix(123))
        lws_close_reason(wsi, lws_close_status(rawValue: UInt32(code.rawValue)), &bytes, bytes.count)
    }
}
