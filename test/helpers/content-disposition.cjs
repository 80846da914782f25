// Jest's module loader cannot require() an ES module on Node 20, and content-disposition 3
// (pulled in by @fastify/static, which @bull-board/fastify loads) is ESM-only. Node itself
// loads it fine; under Jest the CommonJS 0.5 release stands in, with 3's named exports.
const legacy = require('../../node_modules/content-disposition/index.js');

module.exports = { create: legacy, parse: legacy.parse };
