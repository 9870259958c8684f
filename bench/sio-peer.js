// sio-peer.js: COMPARISON PEER for make bench only, not part of the product: a Socket.IO 4.8
// server of the seed's events (join-room, message, offer, answer, ice-candidate), relayed in
// memory to the room's other member, nothing stored. Usage: node sio-peer.js SOCKET_PATH
'use strict';
const http = require('http');
const { Server } = require('socket.io');

const server = http.createServer();
const io = new Server(server, { transports: ['websocket'], serveClient: false });

io.on('connection', (socket) => {
  socket.on('join-room', (d) => {
    if (!d || typeof d.roomId !== 'string') return;
    socket.data.roomId = d.roomId;
    socket.data.participantType = d.participantType;
    socket.join(d.roomId);
    socket.to(d.roomId).emit('participant-joined', { participantType: d.participantType, timestamp: new Date().toISOString() });
  });
  for (const ev of ['message', 'offer', 'answer', 'ice-candidate']) {
    socket.on(ev, (d) => {
      if (d && typeof d.roomId === 'string') socket.to(d.roomId).emit(ev, d);
    });
  }
  socket.on('disconnect', () => {
    const { roomId, participantType } = socket.data;
    if (roomId) socket.to(roomId).emit('participant-left', { participantType, timestamp: new Date().toISOString() });
  });
});

server.listen(process.argv[2], () => console.error('sio-peer: listening'));
process.on('SIGTERM', () => process.exit(0));
