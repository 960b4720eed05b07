"""RideDesk custom actions, one module per topic. Each action is thin glue over ridedesk services."""
