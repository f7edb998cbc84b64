import CWebSockets

/// One reusable buffer for `lws_write`, which wants `LWS_PRE` bytes of headroom before the
/// payload. Owned by one service thread; grows when a write needs more, never shrinks.
final class WriteBuffer {
    /// The headroom libwebsockets needs before the payload.
    let pre = stelling_lws_pre()
    private var storage: UnsafeMutableRawPointer
    private var capacity: Int

    /// Makes a buffer for payloads of `capacity` bytes (the default is 64 KiB).
    init(capacity: Int = 64 << 10) {
        self.capacity = stelling_lws_pre() + capacity
        storage = .allocate(byteCount: self.capacity, alignment: 16)
    }

    deinit {
        storage.deallocate()
    }

    /// Where the payload starts.
    var payload: UnsafeMutablePointer<UInt8> {
        (storage + pre).assumingMemoryBound(to: UInt8.self)
    }

    /// Ensures room for a payload of `bytes`, keeping what it holds already (a batch may grow
    /// it halfway through).
    func reserve(_ bytes: Int) {
        let needed = pre + bytes
        guard needed > capacity else { return }
        var grownCapacity = capacity
        while grownCapacity < needed { grownCapacity *= 2 }
        let grown = UnsafeMutableRawPointer.allocate(byteCount: grownCapacity, alignment: 16)
        grown.copyMemory(from: storage, byteCount: capacity)
        storage.deallocate()
        storage = grown
        capacity = grownCapacity
    }

    /// Copies `bytes` into the payload at `offset`, growing the buffer as needed.
    func copy(_ bytes: some Collection<UInt8>, at offset: Int) {
        reserve(offset + bytes.count)
        let copied: Void? = bytes.withContiguousStorageIfAvailable { source in
            if let base = source.baseAddress { (payload + offset).update(from: base, count: source.count) }
        }
        if copied == nil {
            for (index, byte) in bytes.enumerated() { payload[offset + index] = byte }
        }
    }

    /// Writes the first `length` payload bytes as `kind`; false when lws reports an error.
    func write(_ wsi: OpaquePointer, length: Int, _ kind: lws_write_protocol) -> Bool {
        lws_write(wsi, payload, length, kind) >= 0
    }
}
