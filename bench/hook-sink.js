// hook-sink.js: a webhook receiver for the benches: answers every request 200 at once and, on SIGTERM, prints how many it took.
//
// node hook-sink.js PORTFILE: listens on a free 127.0.0.1 port and writes
// the port to PORTFILE once it listens.
'use strict';
const fs = require('fs');
const http = require('http');

let taken = 0;
const server = http.createServer((req, res) => {
	req.resume();
	req.on('end', () => {
		taken++;
		res.end();
	});
});
server.listen(0, '127.0.0.1', () => fs.writeFileSync(process.argv[2], String(server.address().port)));
process.on('SIGTERM', () => {
	console.log(taken);
	process.exit(0);
});
