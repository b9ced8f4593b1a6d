// The one translation unit that compiles Asio's and Beast's implementation (see
// BOOST_ASIO_SEPARATE_COMPILATION), which keeps the layers that use them quick to build.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
