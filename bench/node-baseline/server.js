'use strict';
// The baseline for Parley's benchmarks: a chat backend written the way the
// Node.js service Parley replaces is written (Express for REST, socket.io 4
// for real time, node-postgres for storage), reduced to what the benchmark
// drives: JWT handshake, direct-connect, join_conversation, send_message.
// It uses Parley's own PostgreSQL schema (run `parley migrate` first).

const http = require('http');
const express = require('express');
const { Server } = require('socket.io');

const config = require('./src/config');
const db = require('./src/db');
const routes = require('./src/routes');
const { registerSocketHandlers } = require('./src/socket');

const app = express();
app.use(express.json({ limit: '100kb' }));
app.use(routes);

const server = http.createServer(app);
const io = new Server(server, { cors: { origin: '*' } });
registerSocketHandlers(io);

server.listen(config.port, config.host, () => {
  console.log(`node baseline listening on http://${config.host}:${config.port}`);
});

function shutdown() {
  io.close();
  server.close(() => db.pool.end().finally(() => process.exit(0)));
  setTimeout(() => process.exit(0), 3000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
