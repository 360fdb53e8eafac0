// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title PropsToken
/// @notice Test and simulation stablecoin: the deployer mints freely. Never deployed to a production network.
contract PropsToken is ERC20 {
    address public immutable minter;

    error TokenNotMinter();

    constructor() ERC20("Props Test Dollar", "pUSD") {
        minter = msg.sender;
    }

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function mint(address to, uint256 amount) external {
        if (msg.sender != minter) revert TokenNotMinter();
        _mint(to, amount);
    }
}
