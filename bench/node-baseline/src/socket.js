'use strict';
const crypto = require('crypto');
const { pool, withTransaction } = require('./db');
const { verifyToken } = require('./auth');

const MAX_MESSAGE_CHARS = 5000;

function fail(ack, message, code) {
  if (typeof ack === 'function') ack({ success: false, message, error_code: code });
}

function context(c) {
  return {
    id: c.id,
    conversation_type: c.conversation_type,
    chat_status: c.chat_status,
    flow_state: c.flow_state,
    awaiting_role: c.awaiting_role,
    current_action_data: c.current_action_data,
  };
}

function messageJson(m) {
  return {
    ...m,
    seen_at: m.seen_at ? m.seen_at.toISOString() : null,
    created_at: m.created_at.toISOString(),
  };
}

async function loadConversation(id) {
  const { rows } = await pool.query(
    `SELECT id, conversation_type, user1_id, user2_id, chat_status, flow_state, awaiting_role, current_action_data
       FROM conversations WHERE id = $1`,
    [id],
  );
  return rows[0] || null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function registerSocketHandlers(io) {
  io.use((socket, next) => {
    const auth = socket.handshake.auth || {};
    const user = verifyToken(auth.token || socket.handshake.headers.authorization || socket.handshake.query.token);
    if (!user) return next(new Error('unauthorized'));
    socket.data.user = user;
    next();
  });

  io.on('connection', (socket) => {
    const user = socket.data.user;
    socket.join(`user_${user.id}`);

    socket.on('join_conversation', async (payload, ack) => {
      const id = typeof payload === 'object' && payload ? payload.conversationId : payload;
      if (typeof id !== 'string' || !UUID.test(id)) return fail(ack, 'conversationId is required', 'VALIDATION_FAILED');
      try {
        const c = await loadConversation(id);
        if (!c) return fail(ack, 'Conversation not found', 'NOT_FOUND');
        if (c.user1_id !== user.id && c.user2_id !== user.id) return fail(ack, 'Not a participant', 'FORBIDDEN');
        socket.join(`conversation_${c.id}`);
        if (typeof ack === 'function') ack({ success: true, conversation_context: context(c) });
      } catch (err) {
        console.error('join_conversation failed', err.message);
        fail(ack, 'Internal error', 'INTERNAL');
      }
    });

    socket.on('send_message', async (data, ack) => {
      const { conversationId, message, clientMessageId } = data || {};
      const text = typeof message === 'string' ? message.trim() : '';
      if (typeof conversationId !== 'string' || !UUID.test(conversationId)) {
        return fail(ack, 'conversationId is required', 'VALIDATION_FAILED');
      }
      if (!text || text.length > MAX_MESSAGE_CHARS) return fail(ack, 'message must be 1..5000 characters', 'VALIDATION_FAILED');
      try {
        const c = await loadConversation(conversationId);
        if (!c) return fail(ack, 'Conversation not found', 'NOT_FOUND');
        if (c.user1_id !== user.id && c.user2_id !== user.id) return fail(ack, 'Not a participant', 'FORBIDDEN');
        if (c.chat_status !== 'real_time') return fail(ack, 'Chat is not enabled', 'CHAT_NOT_ENABLED');
        const receiverId = c.user1_id === user.id ? c.user2_id : c.user1_id;
        const now = new Date();
        const row = await withTransaction(async (client) => {
          const inserted = await client.query(
            `INSERT INTO messages (id, conversation_id, sender_id, receiver_id, message, message_type, action_required,
               is_automated, action_completed, seen, client_message_id, created_at)
             VALUES ($1, $2, $3, $4, $5, 'user_input', false, false, false, false, $6, $7)
             ON CONFLICT (conversation_id, sender_id, client_message_id) DO NOTHING
             RETURNING *`,
            [crypto.randomUUID(), c.id, user.id, receiverId, text, clientMessageId || null, now],
          );
          if (inserted.rows.length === 0) return null;
          await client.query('UPDATE conversations SET last_message_at = $2 WHERE id = $1', [c.id, now]);
          return inserted.rows[0];
        });
        if (!row) {
          // A repeated clientMessageId: answer with the stored message, emit nothing.
          const { rows } = await pool.query(
            'SELECT * FROM messages WHERE conversation_id = $1 AND sender_id = $2 AND client_message_id = $3',
            [c.id, user.id, clientMessageId],
          );
          if (typeof ack === 'function') ack({ success: true, message: rows[0] && messageJson(rows[0]) });
          return;
        }
        const msg = messageJson(row);
        io.to([`conversation_${c.id}`, `user_${c.user1_id}`, `user_${c.user2_id}`]).emit('new_message', {
          conversation_id: c.id,
          message: msg,
          conversation_context: context(c),
        });
        io.to(`user_${receiverId}`).emit('notification', {
          type: 'new_message',
          data: { conversation_id: c.id, message: msg, sender_id: user.id },
        });
        if (typeof ack === 'function') ack({ success: true, message: msg });
      } catch (err) {
        console.error('send_message failed', err.message);
        fail(ack, 'Internal error', 'INTERNAL');
      }
    });
  });
}

module.exports = { registerSocketHandlers };
