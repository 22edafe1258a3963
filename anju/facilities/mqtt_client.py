"""A paho-mqtt client that reads the socket in large chunks and acknowledges in batches.

paho's own read path costs an ingester more than the readings it carries: it reads a packet
one ``recv`` per header byte, handles one packet per ``select``, builds a message object and
its MQTT 5 properties, matches the topic against the callbacks, and sends each PUBACK on its
own (waking its loop through a socket pair to do so). At a few thousand messages a second
that was most of the ingester's time under a shared GIL.

``BatchClient`` keeps paho for everything but the hot path — connecting, subscribing,
keep-alive, reconnecting, TLS, publishing — and replaces ``loop_read``: one ``recv`` of up to
256 KB, every complete packet in it handled, PUBLISH at QoS 0/1 decoded here and handed to
``on_publish_fast(topic, payload)``, their PUBACKs sent as one write at the end. Every other
packet (CONNACK, SUBACK, PINGRESP, PUBACK of our own publishes, QoS 2) goes to paho's handler
as before. It relies on paho's internals, hence the narrow version range in pyproject.toml;
tests/facilities/test_mqtt.py drives it against Mosquitto (reconnects included).
"""

from __future__ import annotations

import struct

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.exception import MalformedPacket

PUBLISH = 0x30
PUBACK = 0x40
READ_SIZE = 256 * 1024
_PUBACK = struct.Struct("!BBH")


def _fresh_in_packet(command: int = 0, packet: bytes = b"") -> dict:
    return {
        "command": command,
        "have_remaining": 0,
        "remaining_count": [],
        "remaining_mult": 1,
        "remaining_length": 0,
        "packet": bytearray(packet),
        "to_process": 0,
        "pos": 0,
    }


class BatchClient(mqtt.Client):
    """paho's Client with a batched read path (see the module's docstring). Set
    ``on_publish_fast``; paho's ``on_message`` still receives QoS 2 messages."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.on_publish_fast = None
        self._rbuf = bytearray()

    def reconnect(self) -> MQTTErrorCode:
        self._rbuf.clear()  # a partial packet of the old connection is no packet of the new
        return super().reconnect()

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        if self._sock is None:
            return MQTTErrorCode.MQTT_ERR_NO_CONN
        try:
            data = self._sock_recv(READ_SIZE)
        except BlockingIOError:
            return MQTTErrorCode.MQTT_ERR_SUCCESS
        except OSError as err:
            self._easy_log(mqtt.MQTT_LOG_ERR, "failed to receive on socket: %s", err)
            return self._loop_rc_handle(MQTTErrorCode.MQTT_ERR_CONN_LOST)
        if not data:
            return self._loop_rc_handle(MQTTErrorCode.MQTT_ERR_CONN_LOST)
        with self._msgtime_mutex:
            self._last_bytes_received = mqtt.time_func()
        buf = self._rbuf
        buf += data
        acks = bytearray()
        try:
            rc, used = self._handle_buffer(buf, acks)
        finally:
            if acks:  # what was handled is acknowledged, even when a later packet failed
                self._packet_queue(PUBACK, bytes(acks), 0, 0)
        del buf[:used]
        if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            return self._loop_rc_handle(rc)
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def _handle_buffer(self, buf: bytearray, acks: bytearray) -> tuple[MQTTErrorCode, int]:
        """Handle every complete packet in ``buf``: ``(return code, bytes used)``."""
        v5 = self._protocol == mqtt.MQTTv5
        fast = self.on_publish_fast
        pack_ack = _PUBACK.pack
        n = len(buf)
        pos = 0
        while n - pos >= 2:
            command = buf[pos]
            length, mult, i = 0, 1, pos + 1
            while True:  # the remaining length: at most four 7-bit bytes
                if i >= n:
                    return MQTTErrorCode.MQTT_ERR_SUCCESS, pos
                byte = buf[i]
                length += (byte & 127) * mult
                mult <<= 7
                i += 1
                if not byte & 128:
                    break
                if i - pos > 4:
                    return MQTTErrorCode.MQTT_ERR_PROTOCOL, pos
            end = i + length
            if end > n:
                return MQTTErrorCode.MQTT_ERR_SUCCESS, pos
            qos = (command >> 1) & 3
            if command & 0xF0 == PUBLISH and qos < 2 and fast is not None:
                try:
                    topic_end = i + 2 + ((buf[i] << 8) | buf[i + 1])
                    topic = buf[i + 2 : topic_end].decode()
                    p = topic_end
                    if qos:
                        mid = (buf[p] << 8) | buf[p + 1]
                        p += 2
                    if v5:  # skip the properties: we ask for no topic aliases
                        plen, pmult = 0, 1
                        while True:
                            byte = buf[p]
                            p += 1
                            plen += (byte & 127) * pmult
                            pmult <<= 7
                            if not byte & 128:
                                break
                        p += plen
                    if p > end:
                        raise IndexError
                except (IndexError, UnicodeDecodeError):
                    return MQTTErrorCode.MQTT_ERR_PROTOCOL, end
                fast(topic, bytes(buf[p:end]))
                if qos:
                    acks += pack_ack(PUBACK, 2, mid)
            else:
                self._in_packet = _fresh_in_packet(command, buf[i:end])
                try:
                    rc = self._packet_handle()
                except MalformedPacket as exc:
                    self._easy_log(mqtt.MQTT_LOG_DEBUG, "Received malformed packet: %s", exc)
                    rc = MQTTErrorCode.MQTT_ERR_PROTOCOL
                self._in_packet = _fresh_in_packet()
                if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                    return rc, end
            pos = end
        return MQTTErrorCode.MQTT_ERR_SUCCESS, pos
