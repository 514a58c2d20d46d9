'use strict';
const crypto = require('crypto');
const express = require('express');
const { pool } = require('./db');
const { requireAuth, USER_ID } = require('./auth');

const router = express.Router();

router.get('/healthz', (req, res) => res.json({ status: 'ok' }));

async function upsertUser(user) {
  const now = new Date();
  await pool.query(
    `INSERT INTO users (id, role, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
     ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, updated_at = EXCLUDED.updated_at,
       role = COALESCE(users.role, EXCLUDED.role)`,
    [user.id, user.role, user.name, now],
  );
}

// Finds or creates the direct conversation of a pair of users.
router.post('/api/messages/direct-connect', requireAuth, async (req, res) => {
  const target = req.body && req.body.target_user_id;
  if (typeof target !== 'string' || !USER_ID.test(target) || target === req.user.id) {
    return res.status(400).json({ success: false, message: 'invalid target_user_id', error_code: 'VALIDATION_FAILED' });
  }
  try {
    await upsertUser(req.user);
    const now = new Date();
    await pool.query(
      `INSERT INTO users (id, created_at, updated_at) VALUES ($1, $2, $2) ON CONFLICT (id) DO NOTHING`,
      [target, now],
    );
    const [lo, hi] = [req.user.id, target].sort();
    const pairKey = `direct:${lo}|${hi}`;
    await pool.query(
      `INSERT INTO conversations (id, conversation_type, user1_id, user2_id, pair_key, chat_status, flow_data,
         revision_count, max_revisions, version, last_message_at, created_at, updated_at)
       VALUES ($1, 'direct', $2, $3, $4, 'real_time', '{}', 0, 0, 0, $5, $5, $5)
       ON CONFLICT (pair_key) DO NOTHING`,
      [crypto.randomUUID(), req.user.id, target, pairKey, now],
    );
    const { rows } = await pool.query('SELECT * FROM conversations WHERE pair_key = $1', [pairKey]);
    res.json({ success: true, conversation: rows[0] });
  } catch (err) {
    console.error('direct-connect failed', err.message);
    res.status(500).json({ success: false, message: 'Internal error', error_code: 'INTERNAL' });
  }
});

module.exports = router;
