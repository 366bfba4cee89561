// A TCP load balancer on a free loopback port, standing for whatever an operator puts in front of
// the nodes: each new connection goes to the next backend in turn; a backend that refuses
// (a killed node) is skipped for that connection. Bytes are piped both ways untouched, so
// WebSocket clients only ever know the balancer's address.
//
//   const lb = await startBalancer([node0.port, node1.port]);
//   lb.port; lb.remove(node0.port); lb.add(node0.port); lb.backendOf(...); await lb.close();
import net from 'node:net';

export async function startBalancer(backendPorts) {
    const backends = [...backendPorts];
    let next = 0;
    // client socket -> backend port, for the tests to see where each connection went
    const routes = new Map();
    const sockets = new Set();

    const connectTo = (client, attempt) => {
        if (backends.length === 0 || attempt >= backends.length) {
            client.destroy();
            return;
        }
        const port = backends[next % backends.length];
        next = (next + 1) % backends.length;
        const upstream = net.connect(port, '127.0.0.1');
        sockets.add(upstream);
        let connected = false;
        upstream.once('connect', () => {
            connected = true;
            routes.set(client, port);
            client.pipe(upstream);
            upstream.pipe(client);
            client.resume();
        });
        upstream.on('error', (err) => {
            if (!connected && err.code === 'ECONNREFUSED' && !client.destroyed) {
                connectTo(client, attempt + 1);
                return;
            }
            client.destroy();
        });
        upstream.on('close', () => {
            sockets.delete(upstream);
            // A backend that dies takes its connections with it: the client must notice at once,
            // as it would behind a real balancer that sees the reset.
            if (connected) client.destroy();
        });
        client.on('close', () => upstream.destroy());
    };

    const server = net.createServer({ pauseOnConnect: true }, (client) => {
        sockets.add(client);
        client.on('error', () => client.destroy());
        client.on('close', () => { sockets.delete(client); routes.delete(client); });
        connectTo(client, 0);
    });
    await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
    });

    return {
        port: server.address().port,
        add(port) { if (!backends.includes(port)) backends.push(port); },
        remove(port) {
            const i = backends.indexOf(port);
            if (i >= 0) backends.splice(i, 1);
        },
        backends() { return [...backends]; },
        // Open client connections per backend port.
        connectionsPerBackend() {
            const counts = new Map();
            for (const port of routes.values()) counts.set(port, (counts.get(port) ?? 0) + 1);
            return counts;
        },
        async close() {
            for (const s of sockets) s.destroy();
            await new Promise((resolve) => server.close(resolve));
        },
    };
}
