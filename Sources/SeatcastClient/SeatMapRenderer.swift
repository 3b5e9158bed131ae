import SeatcastCore

/// Draws a trip's seat map for a terminal. Pure: a snapshot in, text out. Status is
/// shown by a marker as well as by colour, so it reads without colour too.
public enum SeatMapRenderer {
    static let reset = "\u{1B}[0m"

    /// One seat cell, 6 columns wide: ` 12C  ` available, ` 12C* ` held, ` 12C# ` booked.
    static func cell(_ s: SeatState, color: Bool) -> String {
        let marker: String
        let style: String
        switch s.status {
        case .available: marker = " "; style = "\u{1B}[30;42m"
        case .held: marker = "*"; style = "\u{1B}[30;43m"
        case .booked: marker = "#"; style = "\u{1B}[37;41m"
        }
        var label = s.seatNo + marker
        while label.count < 5 { label = " " + label }
        label += " "
        return color ? style + label + reset : label
    }

    /// The whole screen: title, legend, grid with an aisle in the middle, counts and status.
    public static func render(_ snap: TripSnapshot, status: String, color: Bool, nowMs: Int64? = nil) -> String {
        var out = "\(snap.name)  [\(snap.tripId)]\n"
        var legendSeats = [SeatState(seatNo: "A", row: 0, col: 0, status: .available),
                           SeatState(seatNo: "A", row: 0, col: 0, status: .held),
                           SeatState(seatNo: "A", row: 0, col: 0, status: .booked)]
        legendSeats = legendSeats.map { var s = $0; s.seatNo = ""; return s }
        out += "legend: \(cell(legendSeats[0], color: color)) available  \(cell(legendSeats[1], color: color)) held  "
        out += "\(cell(legendSeats[2], color: color)) booked\n\n"
        var byPosition: [Int: SeatState] = [:]
        for s in snap.seats { byPosition[s.row * 1000 + s.col] = s }
        let aisleAfter = (snap.cols + 1) / 2
        for row in 1...max(snap.rows, 1) {
            var line = ""
            for col in 1...max(snap.cols, 1) {
                line += byPosition[row * 1000 + col].map { cell($0, color: color) } ?? "      "
                if col == aisleAfter && snap.cols > 1 { line += "   " }
            }
            out += line + "\n"
        }
        var available = 0, held = 0, booked = 0
        for s in snap.seats {
            switch s.status {
            case .available: available += 1
            case .held: held += 1
            case .booked: booked += 1
            }
        }
        out += "\n\(available) available, \(held) held, \(booked) booked    seq \(snap.seq) (epoch \(snap.epoch))\n"
        out += status + "\n"
        return out
    }
}
