import StellingCluster
import StellingCore
import StellingTesting
import Testing

/// How a node follows the event's log: each batch once, in order, and which nodes still live.
@Suite struct LogFollowerTests {
    static func started(_ node: UInt32, _ name: String) -> ReplicatedEntry {
        ReplicatedEntry(connection: ClusterConnection.global(ConnectionID(0), node: node), body: .nodeStarted(name: name))
    }

    static func logged(_ milliseconds: UInt64, _ node: UInt32, _ sequence: UInt64, _ entries: [ReplicatedEntry] = [],
                       position: UInt64 = 0) -> LoggedBatch {
        LoggedBatch(position: LogPosition(milliseconds: milliseconds, sequence: position),
                    batch: ReplicatedBatch(node: node, sequence: sequence, entries: entries))
    }

    static func join(_ connection: ConnectionID, _ name: String) -> ReplicatedEntry {
        ReplicatedEntry(connection: connection, body: .join(ReplicatedJoin(
            role: .participant, name: name, group: nil, keyVerified: false, resumeHash: nil, newTokenHash: SHA256.hex(name.utf8), ref: nil)))
    }

    @Test func aBatchAppendedTwiceAfterALostReplyIsAppliedOnce() {
        var room = Room(configuration: Harness.configuration())
        var follower = LogFollower(node: 2)
        let anna = ClusterConnection.global(ConnectionID(1), node: 1)
        _ = follower.apply(Self.logged(1000, 1, 1, [Self.started(1, "a"), Self.join(anna, "Anna")]), to: &room)
        let chat = ReplicatedEntry(connection: anna, body: .request(Array(#"{"type":"chat","text":"Hallo","ref":"c"}"#.utf8)))
        let first = follower.apply(Self.logged(1001, 1, 2, [chat]), to: &room)
        // The writer did not get Redis' reply, so it sent the same batch again: it is in the log twice.
        let again = follower.apply(Self.logged(1002, 1, 2, [chat]), to: &room)
        #expect(first.records.count == 1)
        #expect(again.records.isEmpty && again.effects.isEmpty)
        #expect(room.chat.count == 1)
    }

    @Test func aPositionAlreadyAppliedIsSkipped() {
        var room = Room(configuration: Harness.configuration())
        var follower = LogFollower(node: 2)
        let entry = Self.join(ClusterConnection.global(ConnectionID(1), node: 1), "Anna")
        #expect(follower.apply(Self.logged(1000, 1, 1, [entry], position: 3), to: &room).records.count == 1)
        #expect(follower.apply(Self.logged(1000, 3, 1, [entry], position: 3), to: &room).records.isEmpty)
        #expect(follower.position == LogPosition(milliseconds: 1000, sequence: 3))
    }

    @Test func onlyTheReceivingNodeUsesItsSecrets() {
        var room = Room(configuration: Harness.configuration())
        var follower = LogFollower(node: 1)
        let mine = ClusterConnection.global(ConnectionID(1), node: 1)
        var asked: [ConnectionID] = []
        let applied = follower.apply(Self.logged(1000, 1, 1, [Self.join(mine, "Anna")]), to: &room) { entry in
            asked.append(entry.connection)
            return JoinSecrets(resumeToken: nil, newToken: "Anna-token")
        }
        #expect(asked == [mine])
        let welcome = applied.effects.compactMap { effect -> Welcome? in
            guard case let .persist(_, then) = effect, case let .send(_, .welcome(welcome, _))? = then.first else { return nil }
            return welcome
        }.first
        #expect(welcome?.resume == "Anna-token")
        // Another node's batch never asks for secrets.
        var other = LogFollower(node: 2)
        var otherRoom = Room(configuration: Harness.configuration())
        _ = other.apply(Self.logged(1000, 1, 1, [Self.join(mine, "Anna")]), to: &otherRoom) { _ in
            Issue.record("asked for another node's secrets")
            return nil
        }
    }

    @Test func aNodeWhoseBatchesStopIsGoneAfterThreeSecondsOfLogTime() {
        var room = Room(configuration: Harness.configuration())
        var follower = LogFollower(node: 2)
        _ = follower.apply(Self.logged(10_000, 1, 1, [Self.started(1, "a")]), to: &room)
        _ = follower.apply(Self.logged(10_001, 2, 1, [Self.started(2, "b")]), to: &room)
        // Node 2 (this one) goes on beating every half second; node 1 is silent.
        var sequence: UInt64 = 1
        var time: UInt64 = 10_001
        while time + 500 < 13_000 {
            time += 500
            sequence += 1
            _ = follower.apply(Self.logged(time, 2, sequence), to: &room)
            #expect(follower.goneNodes(in: room).isEmpty)
        }
        time += 500
        sequence += 1
        _ = follower.apply(Self.logged(time, 2, sequence), to: &room)
        #expect(follower.goneNodes(in: room) == [1])
        // Said once, not again on the next beat.
        _ = follower.apply(Self.logged(time + 500, 2, sequence + 1), to: &room)
        #expect(follower.goneNodes(in: room).isEmpty)
    }

    @Test func aStalledLogIsNotTheNodesDeath() {
        var room = Room(configuration: Harness.configuration())
        var follower = LogFollower(node: 2)
        _ = follower.apply(Self.logged(10_000, 1, 1, [Self.started(1, "a")]), to: &room)
        _ = follower.apply(Self.logged(10_001, 2, 1, [Self.started(2, "b")]), to: &room)
        // Redis was away for 10 s: the next entry is this node's, 10 s later.
        _ = follower.apply(Self.logged(20_001, 2, 2), to: &room)
        #expect(follower.goneNodes(in: room).isEmpty)
        // Node 1 beats again within the window: still alive.
        _ = follower.apply(Self.logged(20_400, 1, 2), to: &room)
        _ = follower.apply(Self.logged(23_500, 2, 3), to: &room)
        #expect(follower.goneNodes(in: room).isEmpty)
    }

    @Test func aNodeSaidGoneEndsItsSessionsAndLearnsItWasTakenForGone() {
        var room = Room(configuration: Harness.configuration())
        var follower = LogFollower(node: 1)
        let mine = ClusterConnection.global(ConnectionID(1), node: 1)
        _ = follower.apply(Self.logged(1000, 1, 1, [Self.started(1, "a"), Self.join(mine, "Anna")]), to: &room)
        #expect(room.present == 1)
        let gone = ReplicatedEntry(connection: ClusterConnection.global(ConnectionID(0), node: 2), body: .nodeGone(node: 1))
        let applied = follower.apply(Self.logged(5000, 2, 1, [gone]), to: &room)
        #expect(applied.ownNodeGone)
        #expect(room.present == 0)
    }
}
