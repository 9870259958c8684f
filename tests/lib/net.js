// net.js: what every node suite needs from the network: a free loopback port.
'use strict';
const net = require('net');

// A port nothing listens on right now, on 127.0.0.1 (the kernel picks it).
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

module.exports = { freePort };
