// Starts dynalite (in memory, as test suites use it) on 127.0.0.1 only: its own CLI listens on
// every interface. Usage: node dynalite-server.js PORT
const dynalite = require('dynalite')
const port = Number(process.argv[2] || 4567)
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 })
server.listen(port, '127.0.0.1', () => {
  console.log(`dynalite listening on http://127.0.0.1:${port}`)
})
