/// Issue 16: applying the event's log on every node of a cluster (Replication.swift).
extension Room {
    /// Applies one entry of the event's log, in the log's order. `now` is the log entry's time,
    /// `random` is seeded from the log entry alike on every node, and `secrets` are given only by
    /// the node that holds the entry's connection (the others' sends to it are dropped).
    public mutating func apply(
        _ entry: ReplicatedEntry, now: Instant, random: inout some RandomNumberGenerator, secrets: JoinSecrets?
    ) -> [Effect] {
        let connection = entry.connection
        switch entry.body {
        case let .request(bytes):
            return receive(bytes, from: connection, now: now, random: &random)
        case let .join(replicated):
            guard sessions[connection] == nil else {
                return [.send(connection, .error(.badRequest, message: "This connection has joined already.", ref: replicated.ref))]
            }
            let join = Request.Join(role: replicated.role, name: replicated.name, group: replicated.group)
            let credentials = JoinCredentials(
                keyVerified: replicated.keyVerified, resumeHash: replicated.resumeHash, resumeToken: secrets?.resumeToken,
                newToken: (token: secrets?.newToken ?? "", hash: replicated.newTokenHash))
            return handleJoin(join, credentials: credentials, from: connection, ref: replicated.ref, now: now, random: &random)
        case .closed:
            disconnect(connection)
            return []
        case let .nodeStarted(name):
            let node = ClusterConnection.node(of: connection)
            for (other, otherName) in clusterNodes where otherName == name && other != node { dropNode(other) }
            clusterNodes[node] = name
            return []
        case let .nodeGone(node):
            dropNode(node)
            return []
        }
    }

    /// Ends every session of a node (it restarted or stopped answering); presence follows by `tick`.
    mutating func dropNode(_ node: UInt32) {
        clusterNodes[node] = nil
        for connection in sessions.keys where ClusterConnection.node(of: connection) == node { disconnect(connection) }
    }
}

/// What a join's secrets proved, checked where the secrets are.
struct JoinCredentials {
    /// The moderator key matched.
    var keyVerified: Bool
    /// SHA-256 (hex) of the resume token sent.
    var resumeHash: String?
    /// The resume token sent (only where it was received).
    var resumeToken: String?
    /// A new participant's token and its hash, made by the receiving node; nil: draw it here.
    var newToken: (token: String, hash: String)?
}
