"""Ticket status (工单进度): by number, or the rider's latest ticket."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import local_time, reply_on_failure, rider_id, rider_session
from ridedesk.services.errors import InvalidValue, NotFound, NotYours
from ridedesk.services.tickets import Tickets

CATEGORY_NAMES = {
    "fault": "车辆报修",
    "order_dispute": "订单申诉",
    "parking_dispute": "调度费申诉",
    "deposit": "押金退款",
    "complaint": "投诉建议",
    "safety": "安全事件",
    "callback": "回电",
    "other": "其他",
}
STATUS_NAMES = {"open": "已受理，等待处理", "in_progress": "处理中", "resolved": "已处理完成", "closed": "已关闭"}


class ActionTicketStatus(Action):
    """Tells the rider where their ticket stands; other riders' tickets stay private."""

    def name(self) -> Text:
        return "action_ticket_status"

    @reply_on_failure
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        number = tracker.get_slot("ticket_number")
        rider = rider_id(tracker)
        with rider_session(tracker) as session:
            tickets = Tickets(session)
            try:
                ticket = tickets.get(number, rider_id=rider) if number else tickets.latest_for(rider)
            except (NotFound, NotYours, InvalidValue):  # a malformed number is just not found
                # Someone else's ticket is answered exactly like a missing one: no data leaks.
                dispatcher.utter_message(response="utter_ticket_not_found")
                return [SlotSet("ticket_number", None)]
            if ticket is None:
                dispatcher.utter_message(response="utter_no_tickets")
                return []
            if ticket.status in ("resolved", "closed"):
                detail = f"处理结果：{ticket.resolution}" if ticket.resolution else "如果问题还在，告诉我，我帮您重新登记。"
            else:
                detail = f"承诺在 {local_time(ticket.due_at)} 前处理完。"
            facts = dict(
                ticket_number=ticket.number,
                category=CATEGORY_NAMES.get(ticket.category, ticket.category),
                status=STATUS_NAMES.get(ticket.status, ticket.status),
                detail=detail,
            )
        dispatcher.utter_message(response="utter_ticket_status", **facts)
        return [SlotSet("ticket_number", None)]
