"""RideDesk core: the rider's world (tickets, orders, deposits, handoffs) shared by actions and console."""

__version__ = "0.1.0"
