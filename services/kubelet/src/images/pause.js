// k8ts/pause: sleeps until told to stop, then exits 0 (SIGTERM or SIGINT).
const stop = (sig) => {
  process.stdout.write(`pause: received ${sig}\n`);
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
setInterval(() => {}, 1 << 30);
