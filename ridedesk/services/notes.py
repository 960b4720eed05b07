"""Internal notes on a conversation (内部备注): written by agents, never sent to the rider."""
from __future__ import annotations

from typing import List, Optional

from sqlalchemy import select

from ridedesk.db.models import ConversationNote, Handoff
from ridedesk.services.base import Service
from ridedesk.services.errors import InvalidValue, NotFound, NotYours

MAX_NOTE_LENGTH = 2000


class ConversationNotes(Service):
    """Adds and lists agents' notes on a conversation."""

    def add(
        self, conversation_id: str, author: str, body: str, *, handoff_id: Optional[int] = None
    ) -> ConversationNote:
        """Stores a note.

        Args:
            conversation_id: Chat conversation (Rasa sender id).
            author: The agent's username.
            body: The note (1–2000 characters after trimming).
            handoff_id: The hand-off the note was written during, if any; must belong to
                the conversation.

        Raises:
            InvalidValue: ``conversation_id_invalid``, ``author_required``, ``note_required``,
                ``note_too_long``.
            NotFound / NotYours: ``handoff_not_found`` / ``handoff_not_yours``.
        """
        if not isinstance(conversation_id, str) or not conversation_id.strip():
            raise InvalidValue("conversation_id_invalid")
        if not isinstance(author, str) or not author.strip():
            raise InvalidValue("author_required")
        body = (body or "").strip() if isinstance(body, str) else ""
        if not body:
            raise InvalidValue("note_required")
        if len(body) > MAX_NOTE_LENGTH:
            raise InvalidValue("note_too_long", limit=MAX_NOTE_LENGTH)
        if handoff_id is not None:
            handoff = self.session.get(Handoff, handoff_id)
            if handoff is None:
                raise NotFound("handoff_not_found", handoff_id=handoff_id)
            if handoff.conversation_id != conversation_id.strip():
                raise NotYours("handoff_not_yours", handoff_id=handoff_id)
        note = ConversationNote(
            conversation_id=conversation_id.strip(),
            handoff_id=handoff_id,
            author=author.strip()[:64],
            body=body,
            created_at=self.clock(),
        )
        self.session.add(note)
        self.session.flush()
        return note

    def list_for(self, conversation_id: str) -> List[ConversationNote]:
        """All notes on the conversation, oldest first (across its hand-offs)."""
        return list(
            self.session.execute(
                select(ConversationNote)
                .where(ConversationNote.conversation_id == conversation_id)
                .order_by(ConversationNote.created_at, ConversationNote.id)
            ).scalars()
        )


__all__ = ["ConversationNotes", "MAX_NOTE_LENGTH"]
