// seatcast: the executable. Parses arguments and calls SeatcastApp; nothing else.
import SeatcastApp

Seatcast.main()
