import Testing
@testable import StellingServer

@Suite struct BufferedSystemRandomTests {
    @Test func valuesAcrossSeveralRefillsAreDistinctAndUseEveryBit() {
        var random = BufferedSystemRandom()
        let values = (0..<200).map { _ in random.next() }  // six refills of 32
        #expect(Set(values).count == values.count)
        #expect(values.reduce(0, |) == .max)  // every bit set somewhere
        #expect(values.reduce(UInt64.max, &) == 0)  // and clear somewhere
    }

    @Test func twoGeneratorsDoNotRepeatEachOther() {
        var first = BufferedSystemRandom()
        var second = BufferedSystemRandom()
        let a = (0..<40).map { _ in first.next() }
        let b = (0..<40).map { _ in second.next() }
        #expect(Set(a).isDisjoint(with: b))
    }
}
