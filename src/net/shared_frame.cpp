#include "net/shared_frame.hpp"

#include "net/ws/frame_writer.hpp"

namespace huddle::net {

SharedFrame make_text_frame(std::string_view text) {
    return std::make_shared<const std::string>(ws::encode_frame(ws::Opcode::text, text));
}

SharedFrame make_close_frame(std::uint16_t code, std::string_view reason) {
    return std::make_shared<const std::string>(ws::encode_close_frame(code, reason));
}

}  // namespace huddle::net
