// A small self-scaling line chart on a canvas: the last N samples of one series.

export class LineChart {
    constructor(canvas, { color = '#4a7bd6', capacity = 120 } = {}) {
        this.canvas = canvas;
        this.color = color;
        this.capacity = capacity;
        this.values = [];
    }

    push(value) {
        this.values.push(value);
        if (this.values.length > this.capacity) this.values.shift();
        this.draw();
    }

    draw() {
        const { canvas } = this;
        const ratio = window.devicePixelRatio || 1;
        const width = canvas.clientWidth * ratio;
        const height = canvas.clientHeight * ratio;
        if (canvas.width !== width || canvas.height !== height) {
            canvas.width = width;
            canvas.height = height;
        }
        const g = canvas.getContext('2d');
        g.clearRect(0, 0, width, height);
        const top = Math.max(1, ...this.values) * 1.15;
        const pad = 4 * ratio;
        const x = (i) => pad + (i * (width - 2 * pad)) / Math.max(1, this.capacity - 1);
        const y = (v) => height - pad - (v / top) * (height - 2 * pad);

        g.strokeStyle = '#e3e7ef';
        g.lineWidth = ratio;
        g.font = `${10 * ratio}px system-ui, sans-serif`;
        g.fillStyle = '#889';
        for (const fraction of [0.25, 0.5, 0.75]) {
            const value = top * fraction;
            g.beginPath();
            g.moveTo(0, y(value));
            g.lineTo(width, y(value));
            g.stroke();
            g.fillText(formatNumber(value), pad, y(value) - 2 * ratio);
        }
        if (this.values.length === 0) return;
        const offset = this.capacity - this.values.length;
        g.beginPath();
        this.values.forEach((v, i) => (i === 0 ? g.moveTo(x(offset + i), y(v)) : g.lineTo(x(offset + i), y(v))));
        g.strokeStyle = this.color;
        g.lineWidth = 2 * ratio;
        g.stroke();
        g.lineTo(x(offset + this.values.length - 1), height - pad);
        g.lineTo(x(offset), height - pad);
        g.closePath();
        g.globalAlpha = 0.12;
        g.fillStyle = this.color;
        g.fill();
        g.globalAlpha = 1;
    }
}

export function formatNumber(value) {
    if (value >= 10000) return `${(value / 1000).toFixed(0)}k`;
    if (value >= 100) return value.toFixed(0);
    if (value >= 10) return value.toFixed(1);
    return value.toFixed(value === Math.round(value) ? 0 : 2);
}
