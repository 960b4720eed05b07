"""What the console shows: Chinese labels, JSON shapes of hand-offs, notes and tickets, and
the facts an agent needs next to the summary (order, bike, deposit), read through the core
services. Nothing here writes."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, List, Optional

from sqlalchemy.orm import Session

from ridedesk.clock import Clock, to_local
from ridedesk.db.models import ConversationNote, Handoff, Ticket
from ridedesk.services.bikes import Bikes
from ridedesk.services.deposits import Deposits
from ridedesk.services.errors import ServiceError
from ridedesk.services.money import format_yuan
from ridedesk.services.orders import Orders
from ridedesk.services.tickets import TRANSITIONS, Tickets

PRIORITY_LABELS = {"urgent": "紧急", "high": "高", "normal": "普通", "low": "低"}
REASON_LABELS = {
    "requested": "用户要求人工",
    "fallback": "机器人未听懂",
    "form_failure": "多次填写失败",
    "safety": "安全问题",
    "anger": "用户情绪激动",
    "other": "其他",
}
# Hand-off categories come from the bot's topics; ticket categories are the core's.
CATEGORY_LABELS = {
    "fault": "车辆故障",
    "deposit": "押金",
    "parking": "停车/调度费",
    "parking_dispute": "停车/调度费争议",
    "order": "订单/计费",
    "order_dispute": "订单争议",
    "safety": "安全",
    "complaint": "投诉建议",
    "ticket": "工单进度",
    "callback": "回电",
    "other": "其他",
}
TICKET_STATUS_LABELS = {"open": "待处理", "in_progress": "处理中", "resolved": "已解决", "closed": "已关闭"}
HANDOFF_STATUS_LABELS = {"waiting": "排队中", "claimed": "服务中", "resolved": "已结束", "abandoned": "已离开"}
BIKE_STATUS_LABELS = {"in_service": "正常运营", "reported": "已报修", "maintenance": "维修中"}
ORDER_STATUS_LABELS = {"riding": "骑行中", "completed": "已完成", "disputed": "申诉中", "refunded": "已退款"}
DEPOSIT_STATUS_LABELS = {"held": "已缴纳", "refund_requested": "退款中", "refunded": "已退还"}
SLOT_LABELS = {
    "bike_number": "车号",
    "order_number": "订单号",
    "fault_part": "故障部位",
    "place": "地点",
    "phone_number": "电话",
    "ticket_number": "工单号",
    "amount": "金额",
}
TICKET_CATEGORY_CHOICES = [
    ("fault", "车辆故障"),
    ("order_dispute", "订单争议"),
    ("parking_dispute", "停车/调度费争议"),
    ("deposit", "押金"),
    ("complaint", "投诉建议"),
    ("safety", "安全"),
    ("callback", "回电"),
    ("other", "其他"),
]

# Service error codes → what the agent reads.
ERROR_MESSAGES = {
    "handoff_not_found": "找不到这个会话。",
    "handoff_not_waiting": "该会话已被其他客服接入。",
    "handoff_not_claimed": "该会话已不在服务中。",
    "handoff_not_yours": "该会话由其他客服负责，不能操作。",
    "ticket_not_found": "找不到这个工单。",
    "ticket_transition_invalid": "工单当前状态不能这样变更。",
    "ticket_status_invalid": "工单状态不正确。",
    "ticket_category_invalid": "请选择工单类别。",
    "ticket_closed": "工单已关闭，不能再添加备注。",
    "resolution_required": "标记为已解决时必须填写处理结果。",
    "description_required": "请填写问题描述。",
    "description_too_long": "问题描述太长了（最多 2000 字）。",
    "note_required": "请填写内容。",
    "note_too_long": "内容太长了（最多 2000 字）。",
    "bike_number_invalid": "车号应为 9 位数字。",
    "bike_not_found": "查不到这个车号。",
    "order_number_invalid": "订单号应为 12 位数字。",
    "order_not_found": "查不到这个订单（或不属于该用户）。",
    "order_not_yours": "查不到这个订单（或不属于该用户）。",
    "username_invalid": "用户名需为 2–32 位小写字母、数字或 _ . -。",
    "username_taken": "用户名已存在。",
    "display_name_invalid": "显示名称需为 1–16 个字符。",
    "password_too_short": "密码至少 10 位。",
    "password_too_long": "密码太长了。",
    "role_invalid": "角色不正确。",
    "reply_required": "请输入回复内容。",
    "reply_too_long": "回复太长了（最多 1000 字）。",
}


def error_message(code: str) -> str:
    """The Chinese message for a service error code."""
    return ERROR_MESSAGES.get(code, "操作失败，请稍后重试。")


def iso(value: Optional[datetime]) -> Optional[str]:
    """ISO 8601 UTC, or ``None``."""
    return value.isoformat() if value is not None else None


def local_hm(value: Optional[datetime], zone: Optional[str] = None) -> str:
    """Operator-local ``MM-DD HH:MM``."""
    if value is None:
        return "—"
    local = to_local(value, zone)
    return f"{local:%m-%d %H:%M}"


def handoff_json(
    handoff: Handoff,
    now: datetime,
    *,
    position: Optional[int] = None,
    names: Optional[Dict[str, str]] = None,
    me: Optional[str] = None,
) -> Dict[str, Any]:
    """A hand-off as the console's JSON API returns it."""
    summary = handoff.summary if isinstance(handoff.summary, dict) else {}
    names = names or {}
    return {
        "id": handoff.id,
        "conversation_id": handoff.conversation_id,
        "rider_id": handoff.rider_id,
        "status": handoff.status,
        "status_label": HANDOFF_STATUS_LABELS.get(handoff.status, handoff.status),
        "priority": handoff.priority,
        "priority_label": PRIORITY_LABELS.get(handoff.priority, handoff.priority),
        "category": handoff.category,
        "category_label": CATEGORY_LABELS.get(handoff.category or "other", handoff.category or "其他"),
        "reason": handoff.reason,
        "reason_label": REASON_LABELS.get(handoff.reason, handoff.reason),
        "created_at": iso(handoff.created_at),
        "waiting_seconds": max(0, int((now - handoff.created_at).total_seconds())),
        "position": position,
        "claimed_by": handoff.claimed_by,
        "claimed_by_name": names.get(handoff.claimed_by) if handoff.claimed_by else None,
        "claimed_at": iso(handoff.claimed_at),
        "resolved_at": iso(handoff.resolved_at),
        "mine": bool(me and handoff.claimed_by == me),
        "last_message": str(summary.get("last_message") or "")[:200],
    }


def note_json(note: ConversationNote, names: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
    """An internal note."""
    names = names or {}
    return {
        "id": note.id,
        "author": note.author,
        "author_name": names.get(note.author, note.author),
        "text": note.body,
        "created_at": iso(note.created_at),
        "handoff_id": note.handoff_id,
    }


def ticket_json(ticket: Ticket, tickets: Optional[Tickets] = None) -> Dict[str, Any]:
    """A ticket with its history and the statuses it may move to."""
    return {
        "number": ticket.number,
        "category": ticket.category,
        "category_label": CATEGORY_LABELS.get(ticket.category, ticket.category),
        "priority": ticket.priority,
        "priority_label": PRIORITY_LABELS.get(ticket.priority, ticket.priority),
        "department": ticket.department,
        "status": ticket.status,
        "status_label": TICKET_STATUS_LABELS.get(ticket.status, ticket.status),
        "next_statuses": [
            {"value": s, "label": TICKET_STATUS_LABELS[s]} for s in TRANSITIONS.get(ticket.status, ())
        ],
        "description": ticket.description,
        "place": ticket.place,
        "bike_number": ticket.bike_number,
        "order_number": ticket.order_number,
        "conversation_id": ticket.conversation_id,
        "created_at": iso(ticket.created_at),
        "due_at": iso(ticket.due_at),
        "overdue": tickets.is_overdue(ticket) if tickets is not None else False,
        "resolution": ticket.resolution,
        "events": [
            {
                "at": iso(e.at),
                "kind": e.kind,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "note": e.note,
                "author": e.author,
            }
            for e in ticket.events
        ],
    }


def _fact(label: str, value: Any) -> Dict[str, str]:
    return {"label": label, "value": "—" if value in (None, "") else str(value)}


def rider_facts(session: Session, rider_id: str, summary: Dict[str, Any], clock: Clock) -> List[Dict[str, Any]]:
    """Facts about what the rider talked about: the order, the bike, the deposit.

    Each group is ``{"title": str, "items": [{"label", "value"}], "error": str|None}``.
    Looked up with the core services; a number the rider mistyped shows as "查不到".
    """
    slots = summary.get("slots") if isinstance(summary.get("slots"), dict) else {}
    groups: List[Dict[str, Any]] = []
    orders = Orders(session, clock)

    order_number = slots.get("order_number")
    if order_number:
        group: Dict[str, Any] = {"title": f"订单 {order_number}", "items": [], "error": None}
        try:
            order = orders.get_for_rider(order_number, rider_id)
            fare = orders.explain_fare(order)
            group["items"] = [
                _fact("状态", ORDER_STATUS_LABELS.get(order.status, order.status)),
                _fact("车号", order.bike_number),
                _fact("开始", local_hm(order.started_at)),
                _fact("结束", local_hm(order.ended_at)),
                _fact("起点", order.start_place),
                _fact("终点", order.end_place),
                _fact("时长", f"{fare.duration_minutes} 分钟"),
                _fact("骑行费", format_yuan(fare.ride_fee_fen)),
                _fact("调度费", format_yuan(fare.dispatch_fee_fen)),
                _fact("优惠", format_yuan(fare.discount_fen)),
                _fact("合计", format_yuan(fare.total_fen) + ("" if fare.is_final else "（未结束）")),
                _fact("支付", order.payment),
            ]
        except ServiceError as error:
            group["error"] = error_message(error.code)
        groups.append(group)

    bike_number = slots.get("bike_number")
    if bike_number:
        group = {"title": f"车辆 {bike_number}", "items": [], "error": None}
        try:
            bike = Bikes(session).get(bike_number)
            group["items"] = [
                _fact("类型", "电单车" if bike.kind == "ebike" else "单车"),
                _fact("品牌", bike.brand),
                _fact("状态", BIKE_STATUS_LABELS.get(bike.status, bike.status)),
                _fact("最后位置", bike.last_place),
            ]
        except ServiceError as error:
            group["error"] = error_message(error.code)
        groups.append(group)

    deposits = Deposits(session, clock)
    deposit = deposits.status_for(rider_id)
    group = {"title": "押金", "items": [], "error": None}
    if deposit is None:
        group["items"] = [_fact("状态", "无押金")]
    else:
        expected = deposits.expected_refund_date(deposit)
        group["items"] = [
            _fact("金额", format_yuan(deposit.amount_fen)),
            _fact("状态", DEPOSIT_STATUS_LABELS.get(deposit.status, deposit.status)),
            _fact("申请退款", local_hm(deposit.refund_requested_at) if deposit.refund_requested_at else None),
            _fact("承诺到账", expected.isoformat() if expected else None),
            _fact("是否逾期", "是" if deposits.is_overdue(deposit) else "否"),
        ]
    groups.append(group)

    recent = orders.recent_for(rider_id, limit=3)
    if recent:
        groups.append(
            {
                "title": "最近行程",
                "items": [
                    _fact(
                        o.number,
                        f"{local_hm(o.started_at)} {ORDER_STATUS_LABELS.get(o.status, o.status)} {format_yuan(o.total_fen)}",
                    )
                    for o in recent
                ],
                "error": None,
            }
        )
    return groups


def ticket_prefill(summary: Dict[str, Any]) -> Dict[str, str]:
    """Ticket form defaults from the bot's slots (bike, order, place)."""
    slots = summary.get("slots") if isinstance(summary, dict) and isinstance(summary.get("slots"), dict) else {}
    return {key: str(slots.get(key) or "") for key in ("bike_number", "order_number", "place")}


def summary_view(summary: Dict[str, Any]) -> Dict[str, Any]:
    """The hand-off summary in display form (all values as plain strings for escaping)."""
    summary = summary if isinstance(summary, dict) else {}
    slots = summary.get("slots") if isinstance(summary.get("slots"), dict) else {}
    known = {"reason", "topic", "intents", "slots", "last_turns", "last_message", "tickets"}
    return {
        "reason": REASON_LABELS.get(str(summary.get("reason")), str(summary.get("reason") or "—")),
        "topic": str(summary.get("topic") or "—"),
        "intents": [str(i) for i in summary.get("intents") or [] if i],
        "last_message": str(summary.get("last_message") or ""),
        "slots": [
            {"label": SLOT_LABELS.get(str(k), str(k)), "value": str(v)} for k, v in slots.items()
        ],
        "last_turns": [
            {"role": "用户" if t.get("role") == "rider" else "机器人", "text": str(t.get("text") or "")}
            for t in summary.get("last_turns") or []
            if isinstance(t, dict)
        ],
        "other": [
            {"label": str(k), "value": str(v)} for k, v in summary.items() if k not in known
        ],
    }


__all__ = [
    "handoff_json",
    "note_json",
    "ticket_json",
    "rider_facts",
    "summary_view",
    "error_message",
    "PRIORITY_LABELS",
    "REASON_LABELS",
    "CATEGORY_LABELS",
    "TICKET_CATEGORY_CHOICES",
]
