import Foundation
import SeatcastCore
@testable import SeatcastPostgres
import SeatcastTesting
import Testing

/// The SQL files as written (`Sources/SeatcastPostgres/SQL`) and as `Schema` loads them
/// from the resource bundle.
@Suite("Schema files")
struct SchemaFilesTests {
    /// The `.sql` files of `SQL/<folder>` in the source tree, sorted: (name without `.sql`, text).
    static func sourceFiles(_ folder: String) throws -> [(name: String, text: String)] {
        let dir = TestDatabase.packageRoot + "/Sources/SeatcastPostgres/SQL/" + folder
        return try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".sql") }.sorted().map {
            (String($0.dropLast(4)), try String(contentsOfFile: dir + "/" + $0, encoding: .utf8))
        }
    }

    /// Every capture of `pattern`'s first group in `text`.
    static func captures(_ pattern: String, in text: String) throws -> [String] {
        let re = try NSRegularExpression(pattern: pattern)
        let ns = text as NSString
        return re.matches(in: text, range: NSRange(location: 0, length: ns.length)).map { ns.substring(with: $0.range(at: 1)) }
    }

    static var loadedText: String { (Schema.migrations.map(\.sql) + Schema.functions.map(\.sql)).joined(separator: "\n") }

    /// The bundle holds every file of the source tree, and loading leaves no `{{placeholder}}` behind.
    @Test func everyFileLoadsWithoutPlaceholders() throws {
        let migrations = try Self.sourceFiles("migrations"), functions = try Self.sourceFiles("functions")
        #expect(Schema.migrations.map(\.name) == migrations.map(\.name))
        #expect(Schema.migrations.map(\.version) == Array(1...migrations.count))
        #expect(Schema.functions.map(\.name) == functions.map(\.name))
        for (file, loaded) in zip(migrations + functions, Schema.migrations.map(\.sql) + Schema.functions.map(\.sql)) {
            #expect(loaded == Schema.render(file.text, file: file.name))
            #expect(!loaded.contains("{{") && !loaded.contains("}}"), "\(file.name)")
        }
        #expect(Schema.render("a {{notify_channel}} b {{grp_listed_release}}", file: "t") == "a seatcast_events b x")
    }

    /// The NOTIFY channel is spelled once, in Swift: every pg_notify of the files names it by placeholder, no function file spells it, and as loaded each names `Schema.notifyChannel`.
    @Test func notifyChannelComesFromSwift() throws {
        let notify = #"pg_notify\(\s*'([^']*)'"#
        let functions = try Self.sourceFiles("functions")
        let written = try functions.flatMap { try Self.captures(notify, in: $0.text) }
        #expect(written.count >= 2) // seatcast_apply and the statement trigger
        #expect(Set(written) == ["{{notify_channel}}"])
        #expect(functions.filter { $0.text.contains(Schema.notifyChannel) }.map(\.name) == [])
        #expect(try Self.sourceFiles("migrations").allSatisfy { !$0.text.contains("pg_notify") })
        let loaded = try Self.captures(notify, in: Self.loadedText)
        #expect(loaded == Array(repeating: Schema.notifyChannel, count: written.count))
    }

    /// The bulk group codes are spelled once, in Swift: the files name them by placeholder, `SeatStore.bulkGroups` marks requests with exactly `Schema.BulkGroup`'s codes, and `seatcast_apply` answers requests marked with them (a request marked with another code gets no answer, which is how a disagreement would show).
    @Test func bulkGroupCodesComeFromSwift() throws {
        let grp = #"'grp' = '([^']*)'"#
        let written = try Self.sourceFiles("functions").flatMap { try Self.captures(grp, in: $0.text) }
        #expect(Set(written) == ["{{grp_single_seat_reserve}}", "{{grp_listed_release}}"])
        let codes = [Schema.BulkGroup.singleSeatReserve, Schema.BulkGroup.listedRelease]
        #expect(Set(try Self.captures(grp, in: Self.loadedText)) == Set(codes))

        let trip = try TestDatabase.shared.createTrip()
        let hold = newHold()
        let batch: [Command] = [
            .reserve(tripId: trip, seats: ["1A"], hold: hold),
            .release(tripId: trip, seats: ["1A"], hold: hold),
            .confirm(tripId: trip, seats: nil, hold: hold),
        ]
        #expect(SeatStore.bulkGroups(batch, sessions: [1, 1, 1]) == codes + [nil])

        let db = try TestDatabase.shared.connect()
        func answered(_ marks: [String]) throws -> [String] {
            let reqs = marks.enumerated().map { i, mark in
                #"{"grp": "\#(mark)", "op": "reserve", "trip": "\#(trip)", "hold": "\#(hold)", "seats": ["\#(i + 2)A"]}"#
            }
            let r = try db.transaction { () throws(PGError) in
                try db.exec("SELECT idx || ' ' || outcome FROM seatcast_apply($1::jsonb, 60000) ORDER BY idx",
                            ["[" + reqs.joined(separator: ",") + "]"])
            }
            return (0..<r.rowCount).map { r.string($0, 0) ?? "" }
        }
        #expect(try answered([Schema.BulkGroup.singleSeatReserve, "q", Schema.BulkGroup.singleSeatReserve])
                == ["0 reserved", "2 reserved"])
    }

    /// One definition per function: each function file creates, with CREATE OR REPLACE, exactly the function it is named after (and at most the trigger that runs it), and starts with its header: what, called by, lock order, NOTIFY.
    @Test func oneFilePerFunction() throws {
        for f in try Self.sourceFiles("functions") {
            #expect(try Self.captures(#"CREATE\s+(?:OR\s+REPLACE\s+)?FUNCTION\s+(\w+)"#, in: f.text) == [f.name])
            #expect(try Self.captures(#"(CREATE\s+OR\s+REPLACE\s+FUNCTION)"#, in: f.text).count == 1, "\(f.name)")
            let triggers = try Self.captures(#"CREATE\s+(?:OR\s+REPLACE\s+)?TRIGGER\s+(\w+)"#, in: f.text)
            #expect(triggers.count <= 1, "\(f.name)")
            if !triggers.isEmpty {
                #expect(try Self.captures(#"(CREATE\s+OR\s+REPLACE\s+TRIGGER)"#, in: f.text).count == 1, "\(f.name)")
                #expect(try Self.captures(#"EXECUTE\s+FUNCTION\s+(\w+)"#, in: f.text) == [f.name])
            }
            let header = f.text.components(separatedBy: "\nCREATE ")[0]
            #expect(header.hasPrefix("-- \(f.name)("), "\(f.name)")
            for part in ["What:", "Called by:", "Lock order:", "NOTIFY:"] {
                #expect(header.contains("\n-- \(part)"), "\(f.name): no \(part)")
            }
        }
    }

    /// Parameters are named p_..., local variables v_... (the result columns of RETURNS TABLE are the callers' contract and keep their names).
    @Test func parameterAndVariableNames() throws {
        for f in try Self.sourceFiles("functions") {
            let code = f.text.split(separator: "\n").map { $0.components(separatedBy: "--")[0] }.joined(separator: "\n")
            let signature = try #require(try Self.captures(#"FUNCTION\s+\w+\(([^)]*)\)"#, in: code).first)
            let parameters = signature.split(separator: ",").compactMap { $0.split(separator: " ").first.map(String.init) }
            #expect(parameters.allSatisfy { $0.hasPrefix("p_") }, "\(f.name): \(parameters)")
            for block in try Self.captures(#"(?s)\bDECLARE\b(.*?)\bBEGIN\b"#, in: code) {
                let locals = block.split(separator: ";").compactMap { $0.split(whereSeparator: \.isWhitespace).first.map(String.init) }
                #expect(!locals.isEmpty && locals.allSatisfy { $0.hasPrefix("v_") }, "\(f.name): \(locals)")
            }
        }
    }
}
