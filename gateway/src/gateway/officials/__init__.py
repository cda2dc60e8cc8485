"""People who use Fupin (contract §9): officials, their cookie sessions and the session tokens minted for them."""
