'use strict';
const jwt = require('jsonwebtoken');
const config = require('./config');

const USER_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

// Returns { id, role, name } or null.
function verifyToken(raw) {
  if (typeof raw !== 'string' || !raw) return null;
  const token = raw.startsWith('Bearer ') ? raw.slice(7) : raw;
  try {
    const claims = jwt.verify(token, config.jwtSecret, { algorithms: ['HS256'] });
    const id = String(claims.id ?? claims.sub ?? '');
    if (!USER_ID.test(id) || claims.type === 'refresh') return null;
    return { id, role: claims.role || null, name: claims.name || null };
  } catch {
    return null;
  }
}

function requireAuth(req, res, next) {
  const user = verifyToken(req.headers.authorization);
  if (!user) {
    return res.status(401).json({ success: false, message: 'unauthorized', error_code: 'UNAUTHORIZED' });
  }
  req.user = user;
  next();
}

module.exports = { verifyToken, requireAuth, USER_ID };
