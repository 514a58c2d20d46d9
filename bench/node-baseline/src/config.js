'use strict';

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} is required`);
    process.exit(1);
  }
  return value;
}

module.exports = {
  port: Number(process.env.PORT || 5001),
  host: process.env.HOST || '127.0.0.1',
  jwtSecret: required('JWT_SECRET'),
  databaseUrl: required('DATABASE_URL'),
  poolSize: Number(process.env.PG_POOL_MAX || 20),
};
