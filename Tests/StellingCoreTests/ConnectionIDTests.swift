import StellingCore
import Testing

@Suite struct ConnectionIDTests {
    @Test func connectionIDsOrderByTheirNumber() {
        #expect(ConnectionID(2) < ConnectionID(10))
        #expect(ConnectionID(7).description == "c7")
    }
}
